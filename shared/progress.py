"""What a consumer has taken of each source stream: the once-only record that no purge removes.

Per consumer and source stream it keeps a watermark (every version up to it is done) and the
versions past it that are done too: events of one stream normally arrive in version order (one
Kafka key, one partition), but a stream whose events concern different orders has several
keys, so its versions may arrive out of order across partitions. An event whose version is
done is a repeat, however old the replay. The record grows with the number of streams, not
with the number of events, so nothing in it has to be purged.

A stream whose early versions never arrive (a consumer group started after the broker's
retention dropped them) would keep every later version in the set: past `MAX_AHEAD` versions
the watermark moves up to the oldest of them, as if the missing ones had been taken.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_AHEAD = 1000


@dataclass(frozen=True)
class StreamProgress:
    watermark: int = 0
    ahead: frozenset[int] = frozenset()

    def done(self, version: int) -> bool:
        return version <= self.watermark or version in self.ahead

    def take(self, version: int) -> StreamProgress:
        """The progress once `version` is done too."""
        if self.done(version):
            return self
        watermark, ahead = self.watermark, set(self.ahead)
        ahead.add(version)
        if len(ahead) > MAX_AHEAD:
            watermark = min(ahead) - 1
        while watermark + 1 in ahead:
            watermark += 1
            ahead.discard(watermark)
        return StreamProgress(watermark, frozenset(v for v in ahead if v > watermark))
