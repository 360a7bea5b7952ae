"""Walk the whole menu in every locale through the signed webhook."""

from __future__ import annotations

import pytest

from service.content.locales import KNOWN_LOCALES, available_locales
from service.content.segments import count

LOCALES = available_locales()


@pytest.mark.parametrize("locale", LOCALES)
def test_full_menu_tour_in_locale(locale, twilio, app, clock):
    renderer = app.extensions["line"].renderer
    sms = twilio.sms

    def paced(*args, **kwargs):  # a person reading each text: well under the flood limit
        clock.advance(seconds=10)
        return sms(*args, **kwargs)

    twilio.sms = paced
    content = renderer.content
    phone = "+14155550" + str(100 + LOCALES.index(locale))
    twilio.sms("hi", from_=phone)
    switched = twilio.sms(KNOWN_LOCALES[locale], from_=phone).messages
    assert switched[-1] == renderer.main_menu(locale, 0)
    seen = 0
    for number, topic in enumerate(content.topics, start=1):
        twilio.sms("MENU", from_=phone)
        menu = twilio.sms(str(number), from_=phone).messages
        assert menu == [renderer.topic_menu(locale, topic.id)]
        assert count(menu[0]).segments <= 2, (locale, topic.id)
        for index, _item in enumerate(topic.items):
            reply = twilio.sms(str(index + 1), from_=phone).messages
            assert reply == [renderer.item(locale, topic.id, index)]
            assert count(reply[0]).segments <= 3, (locale, topic.id, index)
            if locale != "en":
                assert reply[0] != renderer.item("en", topic.id, index), "not translated"
            seen += 1
    assert seen == sum(len(t.items) for t in content.topics)
    stop = twilio.sms("STOP", from_=phone).messages
    assert stop == [renderer.render_text("stop_confirm", locale)]
