package dev.swarmd.store;

import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.CborSerializable;
import java.time.Instant;

/** What every event carries: its Version.Index, when, and who asked. */
public record Stamp(long index, Instant at, Cause cause) implements CborSerializable {
  public static Stamp next(VersionClock clock, Cause cause) {
    return new Stamp(clock.next(), Instant.now(), cause);
  }
}
