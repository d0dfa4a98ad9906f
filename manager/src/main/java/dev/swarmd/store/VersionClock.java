package dev.swarmd.store;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Swarm's Version.Index: one counter across every object. Each write takes the next value. It is
 * raised past every index in the journal before any entity writes, so it never goes back.
 */
public final class VersionClock {
  private final AtomicLong last = new AtomicLong();

  public long next() {
    return last.incrementAndGet();
  }

  public long current() {
    return last.get();
  }

  public void observe(long index) {
    last.accumulateAndGet(index, Math::max);
  }
}
