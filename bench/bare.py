"""The floor: a bare Flask route returning fixed TwiML, served the same way as the real app."""

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'

app = Flask(__name__)


@app.post("/twilio/sms")
def sms():
    return Response(TWIML, mimetype="application/xml")
