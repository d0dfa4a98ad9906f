package dev.swarmd.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class VersionClockTest {
  @Test
  void eachWriteTakesTheNextIndex() {
    VersionClock clock = new VersionClock();

    assertEquals(0, clock.current());
    assertEquals(1, clock.next());
    assertEquals(2, clock.next());
    assertEquals(2, clock.current());
  }

  @Test
  void observeRaisesTheClockButNeverLowersIt() {
    VersionClock clock = new VersionClock();

    clock.observe(40);
    clock.observe(7);

    assertEquals(40, clock.current());
    assertEquals(41, clock.next());
  }
}
