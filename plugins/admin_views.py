"""The Integrations screens: which plugins are installed, and a council's use of them.

A finance administrator sets up an integration (a plugin's settings for
their council), turns it on and off, and issues the API key a vendor's
system calls in with. Reads are scoped to the user's council; every write
goes through ``plugins.services``. A secret goes from the browser to the
database, encrypted, and never comes back.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import BooleanColumn, Column, Table
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import manager, services
from .encryption import SecretsUnreadable
from .forms import IntegrationForm, add_service_errors, hide_secrets
from .models import Integration
from .types import PluginInfo, PluginKind

PERMISSION = "plugins.manage_integrations"
SETTINGS_PREFIX = "settings"


def _public_url(name: str, integration: Integration) -> str:
    path = reverse(f"plugins:{name}", args=[integration.public_id])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def endpoint_urls(integration: Integration, info: PluginInfo) -> list[tuple[str, str]]:
    """The addresses a council gives the vendor, as (what it is, absolute URL)."""
    urls = []
    if PluginKind.PAYMENT_PROVIDER in info.kinds:
        urls.append(
            (_("Callback (webhook) address"), _public_url("provider_callback", integration))
        )
    if PluginKind.TELEPHONE in info.kinds:
        urls.append((_("Check address"), _public_url("telephone_check", integration)))
        urls.append((_("Payment report address"), _public_url("telephone_outcome", integration)))
    return urls


def _kinds(info: PluginInfo) -> str:
    return ", ".join(str(PluginKind(kind).label) for kind in info.kinds if kind in PluginKind)


def _secret_labels(integration: Integration, info: PluginInfo | None) -> str:
    """Which secrets are stored, by their labels on the plugin's form; never their values."""
    if not integration.secret_names:
        return str(_("None"))
    fields = info.settings_form.base_fields if info and info.settings_form else {}
    return ", ".join(
        str(fields[name].label or name) if name in fields else name
        for name in integration.secret_names
    )


class IntegrationsAdminMixin(WagtailAdminTemplateMixin):
    """Open to staff of a council who may manage its integrations; their council's rows only."""

    header_icon = "cogs"
    index_url_name = "plugins_integrations:index"

    def dispatch(self, request, *args, **kwargs):
        # Permission first, so that a refused user learns nothing about which ids exist.
        if request.organisation is None or not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        self.load()
        return super().dispatch(request, *args, **kwargs)

    def load(self):
        """Find what the view is about (after the permission check); 404 if it is not there."""

    def council_integrations(self):
        return Integration.objects.for_organisation(self.request.organisation)

    def get_integration(self) -> Integration:
        # Another council's integration answers 404, as though it did not exist.
        return get_object_or_404(self.council_integrations(), pk=self.kwargs["pk"])

    def get_breadcrumbs_items(self):
        items = [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Integrations")},
        ]
        if self.get_page_title() != _("Integrations"):
            items.append({"url": "", "label": self.get_page_title()})
        return items


class IntegrationIndexView(IntegrationsAdminMixin, TemplateView):
    """The installed plugins, and the council's integrations of them."""

    template_name = "plugins/admin/index.html"

    def get_page_title(self):
        return _("Integrations")

    def _set_up_link(self, plugin):
        return format_html(
            '<a class="button button-small button-secondary" href="{}">{}</a>',
            reverse("plugins_integrations:add", args=[plugin.name]),
            _("Set up %(title)s") % {"title": plugin.info.title},
        )

    def plugins_table(self):
        plugins = manager.installed_plugins()
        return Table(
            [
                Column("title", label=_("Plugin"), accessor=lambda plugin: plugin.info.title),
                Column("name", label=_("Name")),
                Column("kinds", label=_("Kinds"), accessor=lambda plugin: _kinds(plugin.info)),
                Column(
                    "source",
                    label=_("Version and source"),
                    accessor=lambda plugin: (
                        f"{plugin.info.version} ({plugin.source})"
                        if plugin.info.version and plugin.source == "built-in"
                        else plugin.source
                    ),
                ),
                Column(
                    "description",
                    label=_("Description"),
                    accessor=lambda plugin: plugin.info.description,
                ),
                Column("actions", label=_("Actions"), accessor=self._set_up_link),
            ],
            plugins,
            caption=_("Installed plugins"),
        )

    def _title_link(self, integration):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("plugins_integrations:edit", args=[integration.pk]),
            integration.title,
        )

    def _plugin_title(self, integration):
        info = self._infos.get(integration.plugin)
        if info is None:
            return _("%(name)s (not installed)") % {"name": integration.plugin}
        return info.title

    def _switch_form(self, integration):
        if integration.is_enabled:
            label, enable = _("Disable"), ""
        else:
            label, enable = _("Enable"), "1"
        return format_html(
            '<form method="post" action="{}">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="is_enabled" value="{}">'
            '<button type="submit" class="button button-small button-secondary" '
            'aria-label="{} {}">{}</button></form>',
            reverse("plugins_integrations:switch", args=[integration.pk]),
            get_token(self.request),
            enable,
            label,
            integration.title,
            label,
        )

    @cached_property
    def _infos(self) -> dict[str, PluginInfo]:
        return {plugin.name: plugin.info for plugin in manager.installed_plugins()}

    def integrations_table(self):
        return Table(
            [
                Column("title", label=_("Title"), accessor=self._title_link),
                Column("key", label=_("Key")),
                Column("plugin", label=_("Plugin"), accessor=self._plugin_title),
                BooleanColumn("is_enabled", label=_("Enabled")),
                Column(
                    "secrets",
                    label=_("Secrets stored"),
                    accessor=lambda row: _secret_labels(row, self._infos.get(row.plugin)),
                ),
                Column(
                    "api_key_hint",
                    label=_("API key"),
                    accessor=lambda row: f"{row.api_key_hint}…" if row.api_key_hint else "",
                ),
                Column("actions", label=_("Actions"), accessor=self._switch_form),
            ],
            list(self.council_integrations().order_by("title")),
            caption=_("This council's integrations"),
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            plugins_table=self.plugins_table(),
            integrations_table=self.integrations_table(),
            **kwargs,
        )


class IntegrationFormView(IntegrationsAdminMixin, TemplateView):
    """Shared by adding and editing: the integration's own fields and the plugin's settings form."""

    template_name = "plugins/admin/form.html"
    integration: Integration | None = None

    def plugin_name(self) -> str:
        """The plugin whose settings form is shown (each subclass says which)."""
        raise NotImplementedError

    @cached_property
    def info(self) -> PluginInfo | None:
        try:
            return manager.plugin_info(self.plugin_name())
        except manager.PluginNotInstalled:
            return None

    def build_forms(self, data=None):
        integration_form = IntegrationForm(data=data, integration=self.integration)
        plugin_form = None
        if self.info is not None:
            plugin_form = services.settings_form(
                plugin=self.info.name,
                organisation=self.request.organisation,
                data=data,
                integration=self.integration,
                prefix=SETTINGS_PREFIX,
            )
        stored = self.integration.secret_names if self.integration else []
        hide_secrets(plugin_form, stored=stored)
        return integration_form, plugin_form

    def get(self, request, *args, **kwargs):
        integration_form, plugin_form = self.build_forms()
        return self.render_to_response(
            self.get_context_data(integration_form=integration_form, plugin_form=plugin_form)
        )

    def post(self, request, *args, **kwargs):
        if self.info is None:
            raise Http404("This integration's plugin is not installed.")
        integration_form, plugin_form = self.build_forms(data=request.POST)
        if integration_form.is_valid() and (plugin_form is None or plugin_form.is_valid()):
            plugin_settings = plugin_form.cleaned_data if plugin_form is not None else {}
            try:
                integration = self.save(integration_form.cleaned_data, plugin_settings)
            except ValidationError as error:
                add_service_errors(error, integration_form, plugin_form)
            except SecretsUnreadable as error:
                integration_form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Integration '%(title)s' saved.") % {"title": integration.title}
                )
                return redirect("plugins_integrations:edit", integration.pk)
        return self.render_to_response(
            self.get_context_data(integration_form=integration_form, plugin_form=plugin_form)
        )

    def save(self, cleaned: dict, plugin_settings: dict) -> Integration:
        """Write through the service (each subclass calls its own); raise ValidationError."""
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        return super().get_context_data(info=self.info, integration=self.integration, **kwargs)


class IntegrationCreateView(IntegrationFormView):
    """Set up a plugin for the council."""

    def plugin_name(self) -> str:
        return self.kwargs["plugin"]

    def load(self):
        if self.info is None:
            raise Http404("No such plugin is installed.")

    def get_page_title(self):
        return _("Set up %(title)s") % {"title": self.info.title}

    def save(self, cleaned, plugin_settings):
        return services.integration_create(
            organisation=self.request.organisation,
            plugin=self.info.name,
            key=cleaned["key"],
            title=cleaned["title"],
            is_enabled=cleaned["is_enabled"],
            settings=plugin_settings,
            user=self.request.user,
        )


class IntegrationEditView(IntegrationFormView):
    """Change an integration's title, settings and secrets; see its addresses and API key."""

    def load(self):
        self.integration = self.get_integration()

    def plugin_name(self) -> str:
        return self.integration.plugin

    def get_page_title(self):
        return self.integration.title

    def save(self, cleaned, plugin_settings):
        return services.integration_update(
            integration=self.integration,
            title=cleaned["title"],
            is_enabled=cleaned["is_enabled"],
            settings=plugin_settings,
            user=self.request.user,
        )

    def get_context_data(self, **kwargs):
        endpoints = endpoint_urls(self.integration, self.info) if self.info else []
        return super().get_context_data(
            endpoints=endpoints,
            uses_api_key=bool(self.info and self.info.uses_api_key),
            secrets_stored=_secret_labels(self.integration, self.info),
            **kwargs,
        )


class IntegrationSwitchView(IntegrationsAdminMixin, TemplateView):
    """Turn an integration on or off from the list (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        integration = self.get_integration()
        is_enabled = bool(request.POST.get("is_enabled"))
        try:
            services.integration_set_enabled(
                integration=integration, is_enabled=is_enabled, user=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except SecretsUnreadable as error:
            messages.error(request, str(error))
        else:
            done = _("enabled") if is_enabled else _("disabled")
            messages.success(
                request,
                _("Integration '%(title)s' %(done)s.") % {"title": integration.title, "done": done},
            )
        return redirect(self.index_url_name)


class ApiKeyIssueView(IntegrationsAdminMixin, TemplateView):
    """Issue a new API key: asked for on a confirmation page, shown once, then only its hint."""

    template_name = "plugins/admin/api_key_confirm.html"
    issued_template_name = "plugins/admin/api_key_issued.html"

    def load(self):
        self.integration = self.get_integration()
        try:
            self.info = manager.plugin_info(self.integration.plugin)
        except manager.PluginNotInstalled:
            raise Http404("This integration's plugin is not installed.") from None
        if not self.info.uses_api_key:
            raise Http404("This integration does not use an API key.")

    def get_page_title(self):
        return _("Issue a new API key")

    def get_page_subtitle(self):
        return self.integration.title

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": _("Integrations")},
            {
                "url": reverse("plugins_integrations:edit", args=[self.integration.pk]),
                "label": self.integration.title,
            },
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            integration=self.integration,
            endpoints=endpoint_urls(self.integration, self.info),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        api_key = services.integration_issue_api_key(
            integration=self.integration, user=request.user
        )
        self.integration.refresh_from_db()
        # Rendered, not redirected to: the key exists only in this response.
        return self.response_class(
            request=request,
            template=[self.issued_template_name],
            context=self.get_context_data(api_key=api_key),
        )
