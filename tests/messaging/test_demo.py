"""The demo shows messaging: one conversation (a demo doctor's message and the holder's reply), added once."""

import pytest

from carnet.messaging import actions
from carnet.messaging.demo import fill_demo_messages
from carnet.messaging.models import Conversation
from carnet.sharing.demo import fill_demo_directory

pytestmark = pytest.mark.django_db


def test_one_demo_conversation_added_once(holder):
    fill_demo_directory()
    assert fill_demo_messages(holder) == 1
    assert fill_demo_messages(holder) == 0
    conversation = Conversation.objects.get(person=holder)
    assert [m.from_professional for m in actions.open_conversation(holder, conversation)] == [True, False]
