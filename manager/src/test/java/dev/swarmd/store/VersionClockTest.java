package dev.swarmd.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Cause;
import org.junit.jupiter.api.Test;

class VersionClockTest {
  private static long seal(VersionClock clock) {
    NodeEntity.Event e = new NodeEntity.Removed(Stamp.of(Cause.loop("test", "seal")));
    return clock.seal("Node|n1", e).stamp().index();
  }

  @Test
  void eachWriteTakesTheNextIndex() {
    VersionClock clock = new VersionClock();

    assertEquals(0, clock.current());
    assertEquals(1, seal(clock));
    assertEquals(2, seal(clock));
    assertEquals(2, clock.current());
  }

  @Test
  void observeRaisesTheClockButNeverLowersIt() {
    VersionClock clock = new VersionClock();

    clock.observe(40);
    clock.observe(7);

    assertEquals(40, clock.current());
    assertEquals(41, seal(clock));
  }
}
