"""moto's server (SQS + SNS) with two fixes to FIFO message groups (moto 5.2.5).

1. Groups stay locked during long polls.

moto 5.2 takes its snapshot of "message groups with messages in flight" once, when a
ReceiveMessage call starts. A long poll that waits then hands out messages of a group another
call received in the meantime, so two consumers work on one group at once, which real SQS
never does. Here every receive scans with a fresh snapshot, under one lock, and the long poll
waits between scans instead of inside moto's loop.

2. A group's expired messages come back in order. moto releases an in-flight message whose
visibility ran out only when its scan reaches it, and then recomputes the busy groups: of three
messages of one group received together and left to expire, it skips the first two (their
group still looks busy because of the later ones) and hands out the last (8 of 8 probes). AWS
returns the first. Here every expired message is released before the scan starts.
"""

import re
import sys
import threading
import time

from moto.server import main
from moto.sqs.models import SQSBackend

_original_receive = SQSBackend.receive_message
_receive_lock = threading.Lock()
_POLL_INTERVAL_S = 0.01


def _release_expired(backend, queue_name):
    """In-flight messages whose visibility timeout ran out are in flight no more."""
    queue = backend.get_queue(queue_name)
    for message in [m for m in queue.pending_messages if m.visible]:
        queue.pending_messages.remove(message)


def _receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
    deadline = time.monotonic() + (wait_seconds_timeout or 0)
    while True:
        with _receive_lock:
            _release_expired(self, queue_name)
            result = _original_receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(_POLL_INTERVAL_S)


SQSBackend.receive_message = _receive_message

if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(main())
