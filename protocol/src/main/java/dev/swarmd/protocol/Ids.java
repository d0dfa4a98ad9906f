package dev.swarmd.protocol;

import java.math.BigInteger;
import java.security.SecureRandom;

/** Object IDs in swarmkit's form: 25 characters of base36 from 128 random bits. */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  public static String newId() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return base36(bytes, 25);
  }

  /** Unsigned base36 of the bytes, left-padded with zeros to width. */
  public static String base36(byte[] bytes, int width) {
    String s = new BigInteger(1, bytes).toString(36);
    return "0".repeat(Math.max(0, width - s.length())) + s;
  }
}
