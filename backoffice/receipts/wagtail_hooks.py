from wagtail import hooks

from .viewsets import ReceiptTemplateViewSet


@hooks.register("register_admin_viewset")
def register_receipt_template_viewset():
    """Receipt templates in the Settings menu, for the council's finance administrators."""
    return ReceiptTemplateViewSet("receipts_receipttemplate", url_prefix="receipts/templates")
