"""The content catalog: English source in messages/, translations in locales/ (gettext)."""
