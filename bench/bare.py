"""The floor: bare Flask routes returning fixed TwiML, served the same way as the real app."""

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'
VOICE_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/voice/input" '
               'finishOnKey="" input="dtmf" method="POST" numDigits="1" timeout="6"><Say language="en-US" '
               'voice="Polly.Joanna">Hello. Press 1.</Say></Gather><Redirect method="POST">/twilio/voice/silence'
               '</Redirect></Response>')

app = Flask(__name__)


@app.post("/twilio/sms")
def sms():
    return Response(TWIML, mimetype="application/xml")


@app.post("/twilio/voice")
@app.post("/twilio/voice/input")
def voice():
    return Response(VOICE_TWIML, mimetype="application/xml")
