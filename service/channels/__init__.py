"""Channel adapters: verify, parse, call the conversation, render TwiML. Nothing more."""
