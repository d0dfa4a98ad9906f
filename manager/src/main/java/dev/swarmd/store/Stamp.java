package dev.swarmd.store;

import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.CborSerializable;
import java.time.Instant;

/**
 * What every event carries: its Version.Index, when, who asked, and its link in the journal's hash
 * chain (see {@link VersionClock#seal}). index and link are set when the event is sealed, just
 * before it is persisted.
 */
public record Stamp(long index, Instant at, Cause cause, String link) implements CborSerializable {
  public Stamp(long index, Instant at, Cause cause) {
    this(index, at, cause, null);
  }

  /** A stamp for an event about to be made: now, by cause; the index and link come with the seal. */
  public static Stamp of(Cause cause) {
    return new Stamp(0, Instant.now(), cause, null);
  }

  Stamp numbered(long n) {
    return new Stamp(n, at, cause, null);
  }

  Stamp linked(String l) {
    return new Stamp(index, at, cause, l);
  }
}
