"""Chinese labels (English msgids) of the directory's columns, shared by pages, API and history."""

from flask_babel import lazy_gettext as _l

LABELS = {
    # items
    "code": _l("Item code"),
    "category": _l("Category (抽查类别)"),
    "name": _l("Name"),
    "target_type": _l("Targets (检查对象)"),
    "item_class": _l("Class"),
    "method": _l("Method"),
    "inspecting_body": _l("Inspecting body"),
    "legal_basis": _l("Legal basis"),
    "sampling_ratio": _l("Sampling ratio (%)"),
    "frequency": _l("Frequency"),
    "remarks": _l("Remarks"),
    "status": _l("Status"),
    "status_label": _l("Status"),
    "version": _l("Version"),
    "published_on": _l("Published on"),
    "retired_on": _l("Retired on"),
    "retire_reason": _l("Reason for retiring"),
    "department": _l("Department"),
    "revisions_html": _l("Revisions"),
    "pending_html": _l("Change waiting for a decision"),
    # revisions
    "item": _l("Item"),
    "reason": _l("Reason"),
    "changes_html": _l("Changes"),
    "decision_note": _l("Decision note"),
    "proposed_by": _l("Proposed by"),
    "published_by": _l("Decided by"),
    "created_by": _l("Created by"),
    "created_on": _l("Created on"),
    "changed_by": _l("Changed by"),
    "changed_on": _l("Changed on"),
    # inspectors
    "gender": _l("Gender"),
    "post": _l("Post"),
    "certificate_no": _l("Certificate number"),
    "certificate_expiry": _l("Certificate valid until"),
    "specialties": _l("Specialties"),
    "phone": _l("Phone"),
    "phone_masked": _l("Phone"),
    "id_number": _l("Citizen ID number"),
    "id_number_masked": _l("Citizen ID number"),
    "user": _l("Login account"),
    "drawable_html": _l("Drawable"),
    "history_html": _l("Change history"),
    # targets
    "uscc": _l("Unified social credit code"),
    "legal_representative": _l("Legal representative"),
    "contact_person": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "contact_phone_masked": _l("Contact phone"),
    "address": _l("Address"),
    "area": _l("Area (街道/镇)"),
    "industry": _l("Industry category"),
    "registration_status": _l("Registration status"),
    "risk_class": _l("Credit-risk class"),
    "flags": _l("Special supervision"),
    "listed_on": _l("Dishonesty blacklist"),
    "credit_record_html": _l("Credit record"),
    "items": _l("Applicable items"),
    "last_inspected_on": _l("Last inspected on"),
    "identifier": _l("USCC / citizen ID"),
    "identifier_display": _l("USCC / citizen ID"),
    # conflicts
    "inspector": _l("Inspector"),
    "target": _l("Target"),
    "detail": _l("Details"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"),
    # areas
    "kind": _l("Kind"),
    "sort_order": _l("Sort order"),
    "active": _l("Active"),
}

REVISION_STATUSES = {
    "pending": _l("Waiting for a decision"),
    "published": _l("Published"),
    "rejected": _l("Returned"),
}

# A person's name is 姓名, an item's or a target's 名称.
INSPECTOR_LABELS = {**LABELS, "name": _l("Full name")}
