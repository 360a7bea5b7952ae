"""CSV import a nurse gets right the first time (service/portal/csv_import.py): a template, the
accepted languages and treatments on the page, names in English and Spanish as well as codes, any
header case, comma or semicolon, a UTF-8 BOM, unknown columns named, correct plurals."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from service.models import Enrollment
from service.portal import csv_import
from tests.portal.test_portal import html_of

IMPORT = "/portal/enrollments/import"


def upload(portal, text: str, bom: bool = False):
    data = ("\ufeff" if bom else "") + text
    return portal.submit(IMPORT, {"consent": "y", "file": (io.BytesIO(data.encode("utf-8")), "patients.csv")},
                         content_type="multipart/form-data")


def test_names_in_english_and_spanish_semicolons_any_header_case_and_a_bom(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    resp = upload(portal, "TELÉFONO;Idioma;Tratamientos;Name;Etiqueta\n"
                          "+14155550123;Spanish;Chemotherapy;Ana Ruiz;A.R.\n"
                          "+12125550123;Español;Quimio, Terapia hormonal;Luis;MRN 7\n"
                          "+13125550123;english;hormone cdk46;Kim;\n"
                          "+16175550123;Vietnamese;CDK4/6 inhibitors;;\n", bom=True)
    assert resp.status_code == 302, html_of(resp)
    assert "imported=4" in resp.headers["Location"] and "ignored=Name" in resp.headers["Location"]
    rows = db.all(sa.select(Enrollment).order_by(Enrollment.id))
    assert [(r.locale, r.categories, r.patient_label) for r in rows] == [
        ("es", "chemo", "A.R."), ("es", "chemo hormone", "MRN 7"), ("en", "hormone cdk46", None),
        ("vi", "cdk46", None)]
    page = html_of(portal.get(resp.headers["Location"]))
    assert "Imported 4 patients" in page and "These columns were not used: Name." in page


def test_one_row_one_patient_singular(make_clinic, portal_for):
    portal = portal_for(make_clinic("North"))
    resp = upload(portal, "phone,language,categories\n+14155550123,en,bone\n")
    assert "Imported 1 patient. They get one text" in html_of(portal.get(resp.headers["Location"]))
    resp = upload(portal, "phone,language,categories,notes\n+14155550124,Klingon,bone,x\n")
    page = html_of(resp)
    assert resp.status_code == 422 and "Nothing was imported. 1 row needs fixing:" in page
    assert "Unknown language “Klingon”" in page and "These columns were not used: notes." in page


def test_the_page_lists_what_is_accepted_and_the_template_imports_as_is(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    page = html_of(portal.get(IMPORT))
    languages = re.findall(r"<tr><td><code>([^<]+)</code></td><td>([^<]+)</td></tr>", page)
    assert ("es", "Español") in languages and ("chemo", "Chemotherapy") in languages and ("cdk46", "CDK4/6 inhibitors") in languages
    assert 'href="/portal/enrollments/import/template.csv"' in page
    template = portal.get("/portal/enrollments/import/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert "attachment" in template.headers["Content-Disposition"]
    resp = upload(portal, template.get_data(as_text=True))
    assert resp.status_code == 302 and "imported=2" in resp.headers["Location"]
    assert [r.patient_label for r in db.all(sa.select(Enrollment).order_by(Enrollment.id))] == ["A.R.", "MRN 1042"]


def test_the_spanish_page_reports_in_spanish(make_clinic, portal_for):
    portal = portal_for(make_clinic("North"))
    portal.get("/portal/lang/es")
    resp = upload(portal, "phone,language,categories\n+14155550124,en,astrologia\n+14155550125,en,x\n")
    page = html_of(resp)
    assert "No se importó nada. Hay que corregir 2 filas:" in page and "Tratamiento desconocido «astrologia»" in page


def test_reading_rules():
    parsed = csv_import.read("Phone , LANGUAGE,categories\r\n\r\n+14155550123,es,bone\r\n".encode())
    assert parsed.error is None and parsed.rows == [{"phone": "+14155550123", "language": "es", "categories": "bone",
                                                     "line": "3"}]
    assert csv_import.read(b"\xff\xfe").error == "not_utf8"
    assert csv_import.read(b"phone,language\n1,en\n").error == "missing_columns"
    assert csv_import.read(b"phone,language,categories\n").error == "empty"
    names = csv_import.language_names(["en", "es", "zh-Hans", "zh-Hant", "pt-BR"])
    assert names["spanish"] == names["espanol"] == names["es"] == "es" and names["ingles"] == "en"
    assert names["portuguese (brazil)"] == "pt-BR" and "chinese" not in names  # two Chinese scripts: ambiguous
    assert csv_import.key(" Español ") == "espanol"
