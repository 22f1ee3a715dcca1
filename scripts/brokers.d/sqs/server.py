"""moto's server (SQS + SNS) with one fix: FIFO message groups stay locked during long polls.

moto 5.2 takes its snapshot of "message groups with messages in flight" once, when a
ReceiveMessage call starts. A long poll that waits then hands out messages of a group another
call received in the meantime, so two consumers work on one group at once, which real SQS
never does. Here every receive scans with a fresh snapshot, under one lock, and the long poll
waits between scans instead of inside moto's loop.
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


def _receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
    deadline = time.monotonic() + (wait_seconds_timeout or 0)
    while True:
        with _receive_lock:
            result = _original_receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(_POLL_INTERVAL_S)


SQSBackend.receive_message = _receive_message

if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    sys.exit(main())
