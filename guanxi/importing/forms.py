"""Forms of the import wizard and the export buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core import permissions
from guanxi.importing import fields as fieldmap
from guanxi.importing.engine import Options
from guanxi.importing.models import ImportBatch

if TYPE_CHECKING:
    from guanxi.identity.models import User

ENCODINGS = [
    ("", _("Detect")),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 BOM"),
    ("gbk", "GBK"),
    ("gb18030", "GB18030"),
    ("utf-16", "UTF-16"),
]
DELIMITERS = [
    ("", _("Detect")),
    (",", _("Comma")),
    (";", _("Semicolon")),
    ("\t", _("Tab")),
    ("|", "|"),
]
ON_DUPLICATE = [
    ("skip", _("Skip the row")),
    ("update", _("Fill empty fields of the existing record")),
    ("overwrite", _("Overwrite the existing record")),
    ("create", _("Create anyway")),
]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV, XLSX, XLS, ODS)"))
    entity = forms.ChoiceField(label=_("Import into"), choices=ImportBatch.Entity.choices)


class SetupForm(forms.Form):
    """Reading overrides, options and the column mapping (``map_<column>``) of a draft."""

    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODINGS, required=False)
    delimiter = forms.ChoiceField(label=_("Delimiter"), choices=DELIMITERS, required=False)
    sheet = forms.ChoiceField(label=_("Sheet"), choices=[], required=False)
    header_row = forms.IntegerField(label=_("Header row"), min_value=1, max_value=1000)
    on_duplicate = forms.ChoiceField(label=_("When a row is a duplicate"), choices=ON_DUPLICATE)
    owner = forms.ChoiceField(label=_("Owner of new records"), choices=[], required=False)
    tags = forms.CharField(label=_("Tags to add"), required=False, max_length=200)
    source = forms.ChoiceField(label=_("Source to set"), choices=[], required=False)
    date_order = forms.ChoiceField(
        label=_("Dates like 01/05/2026 are"),
        choices=[("MDY", _("month/day/year")), ("DMY", _("day/month/year"))],
    )
    require_contact = forms.BooleanField(
        label=_("A phone number or an e-mail address is required"), required=False
    )

    def __init__(self, *args: Any, batch: ImportBatch, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        info = batch.file_info
        options = Options.from_dict(batch.options)
        if info.get("kind") == "csv":
            del self.fields["sheet"]
        else:
            del self.fields["encoding"]
            del self.fields["delimiter"]
            cast(forms.ChoiceField, self.fields["sheet"]).choices = [
                (s, s) for s in info.get("sheets", [])
            ]
        from guanxi.identity.models import User as UserModel

        entity_key = fieldmap.ENTITY_KEY[batch.entity]
        users = UserModel.objects.filter(is_active=True).order_by("username")
        if not permissions.can(actor, entity_key, "transfer"):
            users = users.filter(pk=actor.pk)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", _("Me"))] + [
            (str(u.pk), u.label) for u in users
        ]
        if batch.entity == "leads":
            from guanxi.leads.models import LeadSource

            cast(forms.ChoiceField, self.fields["source"]).choices = [("", "—")] + [
                (s.code, s.name_zh) for s in LeadSource.objects.filter(active=True)
            ]
        else:
            del self.fields["source"]
        targets = [("", _("— do not import —"))] + [
            (t, fieldmap.target_label(batch.entity, t))
            for t in fieldmap.allowed_targets(batch.entity)
        ]
        from guanxi.importing.engine import mapping_of
        from guanxi.importing.reader import FileInfo

        file_info = FileInfo(
            **{k: v for k, v in info.items() if k in FileInfo.__dataclass_fields__}
        )
        current = mapping_of(batch.entity, file_info, options)
        self.columns: list[tuple[int, str, str]] = []
        for idx, header in enumerate(info.get("headers", [])):
            name = f"map_{idx}"
            self.fields[name] = forms.ChoiceField(
                label=header or f"#{idx + 1}", choices=targets, required=False
            )
            self.columns.append((idx, header, name))
            self.initial.setdefault(name, current.get(idx, ""))
        self.initial.update(
            {
                "encoding": info.get("encoding", ""),
                "delimiter": info.get("delimiter", ""),
                "sheet": info.get("sheet", ""),
                "header_row": info.get("header_row", 1),
                "on_duplicate": options.on_duplicate,
                "owner": str(options.owner_id or ""),
                "tags": ", ".join(options.tags),
                "source": options.source,
                "date_order": options.date_order,
                "require_contact": options.require_contact,
            }
        )

    def mapping_fields(self) -> list[tuple[str, forms.BoundField]]:
        return [(header, self[name]) for _idx, header, name in self.columns]

    def options(self, actor: User) -> Options:
        data = self.cleaned_data
        mapping = {str(idx): data.get(name) or "" for idx, _h, name in self.columns}
        used: dict[str, int] = {}
        for idx, target in mapping.items():
            if target and target in used:
                self.add_error(
                    f"map_{idx}",
                    _("%(f)s is already taken by another column.")
                    % {"f": fieldmap.target_label(self.batch.entity, target)},
                )
            used.setdefault(target, int(idx))
        old_info = self.batch.file_info
        reread = any(
            str(data.get(k) or "") != str(old_info.get(k) or "")
            for k in ("encoding", "delimiter", "sheet", "header_row")
            if k in self.fields
        )
        return Options(
            entity=self.batch.entity,
            on_duplicate=data["on_duplicate"],
            owner_id=int(data["owner"]) if data.get("owner") else None,
            tags=[
                t.strip()
                for t in (data.get("tags") or "").replace("，", ",").split(",")
                if t.strip()
            ],
            source=data.get("source") or "",
            require_contact=bool(data.get("require_contact")),
            date_order=data["date_order"],
            time_zone=str(getattr(actor, "time_zone", "") or "Asia/Shanghai"),
            mapping=None if reread else {k: v for k, v in mapping.items() if v},
            encoding=data.get("encoding") or "",
            delimiter=data.get("delimiter") or "",
            sheet=data.get("sheet") or "",
            header_row=data.get("header_row") or 0,
        )
