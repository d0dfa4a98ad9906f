package dev.swarmd.api;

import java.security.SecureRandom;

/** Docker-style random names (adjective_surname) for services created without --name. */
final class Names {
  private static final String[] LEFT = {"admiring", "brave", "clever", "dreamy", "eager", "focused", "gallant",
      "happy", "jolly", "keen", "loving", "modest", "nifty", "optimistic", "peaceful", "quirky", "relaxed",
      "serene", "tender", "upbeat", "vibrant", "wizardly", "youthful", "zealous"};
  private static final String[] RIGHT = {"albattani", "bell", "curie", "darwin", "euclid", "feynman", "galileo",
      "hopper", "jennings", "kepler", "lovelace", "meitner", "noether", "pasteur", "ritchie", "shannon", "tesla",
      "turing", "villani", "wozniak", "yalow", "zhukovsky"};
  private static final SecureRandom RANDOM = new SecureRandom();

  private Names() {}

  static String random() {
    return LEFT[RANDOM.nextInt(LEFT.length)] + "_" + RIGHT[RANDOM.nextInt(RIGHT.length)];
  }
}
