package dev.swarmd.store;

/** A journal event: it carries a stamp, and can be made again with another (its seal). */
public interface Sealable<E> {
  Stamp stamp();

  E withStamp(Stamp stamp);
}
