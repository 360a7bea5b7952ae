"""Portal forms. Every form is a FlaskForm, so every POST carries and checks a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..clinics.accounts import MAX_PASSWORD
from .blueprint import bp
from .i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(validators=[DataRequired(REQUIRED), Length(max=MAX_PASSWORD)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EnrollForm(FlaskForm):
    phone = StringField(validators=[DataRequired(REQUIRED), Length(max=32)])
    locale = SelectField(validators=[InputRequired(REQUIRED)])
    categories = MultiCheckboxField(validators=[DataRequired(_l("Choose at least one treatment."))])
    start_date = DateField(validators=[Optional()], format="%Y-%m-%d")
    timezone = StringField(validators=[Optional(), Length(max=64)])
    label = StringField(validators=[Optional(), Length(max=40, message=_l("The patient label has at most 40 characters."))])
    consent = BooleanField(validators=[DataRequired(_l("Confirm that the patient agreed to get texts."))])


class ImportForm(FlaskForm):
    file = FileField(validators=[FileRequired(REQUIRED)])
    consent = BooleanField(validators=[DataRequired(_l("Confirm that every patient in the file agreed to get texts."))])


class ClinicForm(FlaskForm):
    timezone = StringField(validators=[DataRequired(REQUIRED), Length(max=64)])


class ActionForm(FlaskForm):
    """A button that changes something (stop, close, sign out): only the CSRF token."""


@bp.app_template_global("aria")
def aria(field, id: str, hint: str | None = None) -> dict:
    """Attributes that tie a field to its hint and its errors (templates/portal/fields.html):
    screen readers announce "invalid" and read the error with the field."""
    ids = [hint] if hint else []
    ids += [f"{id}-error{i or ''}" for i in range(len(field.errors))]
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs
class TokenForm(FlaskForm):
    name = StringField(validators=[DataRequired(REQUIRED), Length(max=80)])
