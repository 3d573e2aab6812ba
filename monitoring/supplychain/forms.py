"""Forms of the supply-chain registry pages."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import ValidationError as InvalidArgs
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from monitoring.core.forms import optional_int, show_messages
from monitoring.core.types import TitledEnum
from monitoring.supplychain.models import (
    ClauseKind,
    Contract,
    DisclosurePart,
    DuplicateState,
    Product,
    ProductCategory,
    Site,
    SiteKind,
)
from monitoring.supplychain.operations import country_choices
from monitoring.supplychain.pickers import Picker
from monitoring.supplychain.schemas import CreateDisclosureArgs

# Empty clause rows offered at the end of the contract form (filled ones are kept).
SPARE_CLAUSES = 2


def _placeholder(label: Any) -> SelectChoice:
    return SelectChoice("", str(label))


def enum_choices(enum_cls: type[TitledEnum], placeholder: Any = None) -> list[SelectChoice]:
    choices = [SelectChoice(m.value, m.title) for m in enum_cls]
    return [_placeholder(placeholder), *choices] if placeholder is not None else choices


def countries(placeholder: Any) -> list[SelectChoice]:
    """Every country by its name in the user's language."""
    return [
        _placeholder(placeholder),
        *(SelectChoice(c, n) for c, n in country_choices(get_locale() or "en")),
    ]


class _FilterForm(FlaskForm):
    """A GET form that narrows a list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False


class SiteFilterForm(_FilterForm):
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country"), default="")
    kind = SelectField(_l("Kind of site"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = countries(_l("Any country"))
        self.kind.choices = enum_choices(SiteKind, _l("Any kind"))


class ProductFilterForm(_FilterForm):
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    category = SelectField(_l("Category"), default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = enum_choices(ProductCategory, _l("Any category"))


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=200)])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    kind = SelectField(_l("Kind of site"), validators=[DataRequired()])
    os_id = StringField(
        _l("Open Supply Hub id (optional)"),
        validators=[Optional(), Length(max=32)],
        description=_l("For example CN2019303BQ3FZP."),
    )
    workers_approx = IntegerField(
        _l("Approximate number of workers (optional)"), validators=[Optional(), NumberRange(min=0)]
    )
    latitude = DecimalField(
        _l("Latitude (optional)"), places=None, validators=[Optional(), NumberRange(min=-90, max=90)]
    )
    longitude = DecimalField(
        _l("Longitude (optional)"), places=None, validators=[Optional(), NumberRange(min=-180, max=180)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = countries(_l("Choose a country"))
        self.kind.choices = enum_choices(SiteKind, _l("Choose a kind"))

    @staticmethod
    def data_of(site: Site) -> dict[str, Any]:
        """The form filled in with a site's values."""
        names = ("name", "address", "city", "country", "os_id", "workers_approx", "latitude", "longitude")
        return {**{n: getattr(site, n) for n in names}, "kind": site.kind.value}


class SiteNameForm(FlaskForm):
    name = StringField(
        _l("Another name"),
        validators=[DataRequired(), Length(max=300)],
        description=_l(
            "For instance its name in Chinese or Thai, or a trading or former name. Workers and staff "
            "find the site by any of its names."
        ),
    )


class ProductForm(FlaskForm):
    brand = StringField(_l("Brand"), validators=[DataRequired(), Length(max=200)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Category"), validators=[DataRequired()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = enum_choices(ProductCategory, _l("Choose a category"))


class ClauseForm(Form):
    """One clause row of the contract form; a row without text is left out."""

    kind = SelectField(_l("Kind of clause"), default=ClauseKind.labour_standards.value)
    reference = StringField(
        _l("Where in the contract (optional)"),
        validators=[Optional(), Length(max=100)],
        description=_l("For example § 12.3 or Annex 4."),
    )
    text = TextAreaField(_l("Text of the clause"), validators=[Optional(), Length(max=20000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(ClauseKind)


class ContractForm(FlaskForm):
    supplier = SelectField(_l("Supplier"), coerce=optional_int, validators=[DataRequired()])
    reference = StringField(
        _l("Reference"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("Your own reference, e.g. the procurement number."),
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    start_date = DateField(_l("Start date"), validators=[DataRequired()])
    end_date = DateField(_l("End date (optional)"), validators=[Optional()])
    annual_spend = DecimalField(
        _l("Annual spend (optional)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    currency = StringField(
        _l("Currency"),
        default="EUR",
        validators=[DataRequired(), Length(min=3, max=3)],
        description=_l("Three-letter ISO 4217 code, e.g. EUR, SEK or GBP."),
    )
    labour_conditions = BooleanField(_l("The contract carries labour-standards conditions"), default=True)
    clauses = FieldList(FormField(ClauseForm), min_entries=SPARE_CLAUSES, max_entries=100)

    def __init__(self, suppliers: Picker, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The supplier chosen, then the first or the searched ones (the ``picker`` macro).
        self.supplier_picker = suppliers
        self.supplier.choices = [_placeholder(_l("Choose a supplier")), *_picked(suppliers)]

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date must not be before the start date."))

    @staticmethod
    def data_of(contract: Contract) -> dict[str, Any]:
        """The form filled in with a contract's values and clauses."""
        names = (
            "reference",
            "title",
            "start_date",
            "end_date",
            "annual_spend",
            "currency",
            "labour_conditions",
        )
        clauses = [{"kind": c.kind.value, "reference": c.reference, "text": c.text} for c in contract.clauses]
        return {
            **{n: getattr(contract, n) for n in names},
            "supplier": contract.supplier_id,
            "clauses": clauses,
        }

    def filled_clauses(self) -> list[dict[str, Any]]:
        """The clause rows with a text (empty rows are left out), as ``ClauseArgs``."""
        rows = self.clauses.data
        return [{k: v for k, v in row.items() if v} for row in rows if (row.get("text") or "").strip()]

    def add_spare_clauses(self) -> None:
        for _ in range(SPARE_CLAUSES):
            self.clauses.append_entry()


class ContractProductForm(FlaskForm):
    brand = StringField(_l("Brand"), validators=[DataRequired(), Length(max=200)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(
        _l("Category"),
        default="",
        description=_l("Only needed for a product that is not in the registry yet."),
    )
    quantity = IntegerField(_l("Quantity (optional)"), validators=[Optional(), NumberRange(min=1)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category.choices = enum_choices(ProductCategory, _l("Choose a category"))


NEW_SITE = "new"


def product_label(product: Product) -> str:
    return f"{product.brand} {product.model}"


def disclosure_site_label(site: Site) -> str:
    return f"{site.name}, {site.city or site.country}"


def _picked(picker: Picker) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in picker.choices]


class DisclosureForm(FlaskForm):
    # Checked by the operation, which names the field, rather than as a choice.
    product = SelectField(
        _l("Product"), coerce=optional_int, validate_choice=False, validators=[DataRequired()]
    )
    part = SelectField(_l("Part made at the site"), validators=[DataRequired()])
    site = SelectField(
        _l("Site"),
        validate_choice=False,
        description=_l("One of the sites you disclosed before, or a new site described below."),
    )
    site_name = StringField(_l("Name of the new site"), validators=[Optional(), Length(max=300)])
    site_address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    site_city = StringField(_l("City"), validators=[Optional(), Length(max=200)])
    site_country = SelectField(_l("Country"), default="")
    site_kind = SelectField(_l("Kind of site"), default="")
    site_os_id = StringField(_l("Open Supply Hub id (optional)"), validators=[Optional(), Length(max=32)])
    valid_from = DateField(_l("True from"), validators=[DataRequired()])
    valid_to = DateField(_l("True until (optional)"), validators=[Optional()])
    source = StringField(
        _l("Source (optional)"),
        validators=[Optional(), Length(max=500)],
        description=_l("The document this comes from, e.g. a supplier list or an audit report."),
    )
    supplies_os_id = StringField(
        _l("Goes to the site with Open Supply Hub id (optional)"),
        validators=[Optional(), Length(max=32)],
        description=_l(
            "For a component or sub-assembly: the site the part is delivered to, so that the chain "
            "component, sub-assembly, final assembly is held."
        ),
    )
    value_share = DecimalField(
        _l("Share of the product's value, in percent (optional)"),
        places=None,
        validators=[Optional(), NumberRange(min=0.01, max=100)],
        description=_l("Where known; leverage per tier weighs a contract's spend by it."),
    )
    units_per_product = IntegerField(
        _l("Units per product (optional)"), validators=[Optional(), NumberRange(min=1, max=100000)]
    )

    def __init__(self, products: Picker, sites: Picker, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Searches (rendered by the ``picker`` macro), never a list of every product or site.
        self.product_picker = products
        self.site_picker = sites
        self.product.choices = [_placeholder(_l("Choose a product")), *_picked(products)]
        self.part.choices = enum_choices(DisclosurePart, _l("Choose a part"))
        self.site.choices = [
            SelectChoice(NEW_SITE, str(_l("A new site (describe it below)"))),
            *_picked(sites),
        ]
        self.site_country.choices = countries(_l("Choose a country"))
        self.site_kind.choices = enum_choices(SiteKind, _l("Choose a kind"))

    def validate_valid_to(self, field: DateField) -> None:
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))

    def validate_site_name(self, field: StringField) -> None:
        if self.site.data in (None, "", NEW_SITE) and not (field.data or "").strip():
            raise ValidationError(_l("Please give the new site's name, or choose one of your sites."))

    # The fields of ``CreateDisclosureArgs`` that the form names otherwise.
    RENAME = {"product_id": "product", "site_id": "site"}
    SITE_FIELDS = ("name", "address", "city", "country", "kind", "os_id")

    def args(self) -> dict[str, Any] | None:
        """The input as ``CreateDisclosureArgs`` (one of the supplier's sites, or a new one described);
        None, with the messages next to the fields, when it does not pass."""
        values: dict[str, Any] = {
            "product_id": self.product.data,
            "part": self.part.data,
            "valid_from": self.valid_from.data,
            "valid_to": self.valid_to.data,
            "source": self.source.data,
            "supplies_os_id": (self.supplies_os_id.data or "").strip(),
            "value_share": str(self.value_share.data) if self.value_share.data is not None else None,
            "units_per_product": self.units_per_product.data,
        }
        if self.site.data in (None, "", NEW_SITE):
            values["site"] = {n: v for n in self.SITE_FIELDS if (v := getattr(self, f"site_{n}").data)}
        else:
            values["site_id"] = int(self.site.data) if str(self.site.data).isdigit() else self.site.data
        try:
            return dict(CreateDisclosureArgs().load({k: v for k, v in values.items() if v not in (None, "")}))
        except InvalidArgs as exc:
            messages = exc.normalized_messages()
            site = messages.pop("site", None)
            if isinstance(site, dict):
                messages.update({f"site_{name}": value for name, value in site.items()})
            show_messages(self, messages, self.RENAME)
            return None


class CurrencyRateForm(FlaskForm):
    currency = StringField(
        _l("Currency"),
        validators=[DataRequired(), Length(min=3, max=3)],
        description=_l("Three-letter ISO 4217 code, e.g. SEK."),
    )
    eur_per_unit = DecimalField(
        _l("Euros per unit"),
        places=None,
        validators=[InputRequired(), NumberRange(min=0)],
        description=_l("How many euros one unit of the currency is worth, e.g. 0.087 for SEK."),
    )


_FILE_HINT = _l("A CSV file saved as UTF-8, with a header row.")


# --- imports and likely duplicates ----------------------------------------------------------


def _file_field() -> FileField:
    return FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a file to import."))],
        description=_FILE_HINT,
        render_kw={"accept": ".csv,text/csv"},
    )


class FacilityImportForm(FlaskForm):
    file = _file_field()


class ColumnMappingForm(FlaskForm):
    """The column-mapping step of an import; its selects (``map_<field>``) are drawn by the
    ``macros/column_mapping.html`` macro and read by the view."""

    save_as = StringField(
        _l("Save this mapping as"),
        validators=[Optional(), Length(max=120)],
        description=_l("A name, to have the next file with the same columns matched the same way."),
    )


class DisclosureImportForm(FlaskForm):
    supplier = SelectField(
        _l("Supplier"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose the supplier the disclosures are made for."))],
        description=_l("The disclosures are recorded for this supplier, in your name."),
    )
    file = _file_field()


class ProposeDuplicateForm(FlaskForm):
    site_id = IntegerField(
        _l("Number of the site that stays"),
        validators=[InputRequired(_l("Give the number of a site.")), NumberRange(min=1)],
        description=_l("The number at the end of the site page's address, e.g. 12 for /sites/12."),
    )
    candidate_id = IntegerField(
        _l("Number of the site to merge into it"),
        validators=[InputRequired(_l("Give the number of a site.")), NumberRange(min=1)],
    )
    reason = StringField(
        _l("Why they look like one place (optional)"), validators=[Optional(), Length(max=200)]
    )


class MergeForm(FlaskForm):
    keep = RadioField(
        _l("Which site stays?"),
        choices=[
            SelectChoice("site", _l("The first site")),
            SelectChoice("candidate", _l("The second site")),
        ],
        default="site",
        validators=[InputRequired()],
    )


class DecisionForm(FlaskForm):
    """A button that only needs the CSRF token."""


class BulkReviewForm(FlaskForm):
    """Merge the open pairs from one similarity up and dismiss those below another."""

    accept_from = IntegerField(
        _l("Merge every pair at least this similar (%)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    dismiss_below = IntegerField(
        _l("Dismiss every pair less similar than (%)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )


class DuplicateFilterForm(FlaskForm):
    """A GET form that narrows the list; it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    state = SelectField(_l("Show"), default=DuplicateState.proposed.value)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [SelectChoice(s.value, s.title) for s in DuplicateState]


class CountryRiskForm(FlaskForm):
    country = SelectField(_l("Country"), validators=[DataRequired()])
    level = SelectField(
        _l("Risk level"),
        validators=[DataRequired()],
    )
    source = StringField(
        _l("Source"),
        validators=[DataRequired(), Length(max=500)],
        description=_l(
            "Where the level comes from, e.g. an index and its year, or the network's own assessment."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = countries(_l("Choose a country"))
        self.level.choices = [
            _placeholder(_l("Choose a level")),
            SelectChoice("1", gettext("1: lowest")),
            *(SelectChoice(str(n), str(n)) for n in (2, 3, 4)),
            SelectChoice("5", gettext("5: highest")),
        ]
