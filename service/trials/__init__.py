"""Clinical trials near me (issue 6): recruiting metastatic breast cancer studies by ZIP code.

- api.py      ClinicalTrials.gov API v2 client (pages through `GET /studies` with pageToken)
- parse.py    one API v2 study -> the fields we keep (title, phases, subtypes, sites)
- subtypes.py HR+ / HER2+ / TNBC tags from a study's conditions, keywords and title
- sync.py     `flask --app service trials sync`: stage every page, then swap in one transaction
- geo.py      ZIP -> lat/lon offline (`zipcodes` ships its data) and haversine miles
- search.py   nearest recruiting sites within TRIALS_RADIUS_MILES, optionally by subtype
- compose.py  SMS texts from catalog strings, each within the segment budget
- line.py     the hook the SMS conversation glue calls for a "trials" Reply
(The voice line's ZIP search is part of the call: service/calls/flow.py.)
"""
