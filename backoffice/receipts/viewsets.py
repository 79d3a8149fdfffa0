"""The finance administrator's receipt template screens (Settings, then Receipt templates)."""

from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel
from wagtail.admin.ui.tables import BooleanColumn, DateColumn
from wagtail.admin.views.generic import EditView, IndexView
from wagtail.admin.widgets import HeaderButton

from backoffice.tenancy.viewsets import TenantModelViewSet

from .models import PLACEHOLDERS, ReceiptTemplate
from .views import BuiltInReceiptPreviewView, ReceiptTemplatePreviewView


def _placeholder_help():
    items = format_html_join(
        "",
        "<li><code>{{{}}}</code> — {}</li>",
        ((name, text) for name, text in PLACEHOLDERS.items()),
    )
    return format_html(
        "<p>{}</p><ul>{}</ul><p>{}</p>",
        _(
            "Type a placeholder, braces included, where the receipt should show its value. "
            "These are the only ones there are:"
        ),
        items,
        _(
            "Whatever the template says, every receipt also shows what the law asks of a VAT "
            "receipt: your council's name, address and VAT registration number, the receipt "
            "number, the date and time of payment, each line with its VAT rate, the VAT per "
            "rate, the total and any refunds."
        ),
    )


class ReceiptTemplateIndexView(IndexView):
    built_in_preview_url_name = None

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Preview the built-in receipt"),
                url=reverse(self.built_in_preview_url_name),
                icon_name="doc-full",
                attrs={"target": "_blank"},
            ),
        ]


class ReceiptTemplateEditView(EditView):
    preview_url_name = None

    @cached_property
    def header_buttons(self):
        return [
            *super().header_buttons,
            HeaderButton(
                _("Preview (PDF)"),
                url=reverse(self.preview_url_name, args=[self.object.pk]),
                icon_name="view",
                attrs={"target": "_blank"},
            ),
        ]


class ReceiptTemplateViewSet(TenantModelViewSet):
    model = ReceiptTemplate
    icon = "doc-full"
    menu_label = _("Receipt templates")
    add_to_settings_menu = True
    index_view_class = ReceiptTemplateIndexView
    edit_view_class = ReceiptTemplateEditView
    search_fields = ["name", "heading"]
    search_backend_name = None
    list_display = [
        "name",
        "heading",
        BooleanColumn("is_default", label=_("Used for every receipt")),
        DateColumn("updated_at", label=_("Last changed")),
    ]
    panels = [
        FieldRowPanel([FieldPanel("name"), FieldPanel("is_default")]),
        MultiFieldPanel(
            [
                FieldPanel("heading"),
                FieldPanel("body"),
                FieldPanel("footer"),
                HelpPanel(content=_placeholder_help()),
            ],
            heading=_("Words"),
        ),
        MultiFieldPanel([FieldPanel("logo"), FieldPanel("colour")], heading=_("Look")),
    ]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            built_in_preview_url_name=self.get_url_name("preview_built_in"), **kwargs
        )

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(preview_url_name=self.get_url_name("preview"), **kwargs)

    @property
    def preview_view(self):
        return self.construct_view(ReceiptTemplatePreviewView)

    @property
    def built_in_preview_view(self):
        return self.construct_view(BuiltInReceiptPreviewView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("preview/<int:pk>/", self.preview_view, name="preview"),
            path("preview/built-in/", self.built_in_preview_view, name="preview_built_in"),
        ]
