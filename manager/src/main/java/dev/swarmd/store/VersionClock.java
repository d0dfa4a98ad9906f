package dev.swarmd.store;

/**
 * Swarm's Version.Index: one counter across every object, and the head of the journal's hash
 * chain. Each event takes the next index and the next link together, at its seal, so that the chain
 * follows the index order whatever order the entities' writes reach the journal in. Both are raised
 * past every event in the journal before any entity writes, so they never go back.
 */
public final class VersionClock {
  private long last;
  private long headIndex;
  private String head = Links.GENESIS;

  /** The event with the next index and its link; persist it as it is returned. */
  public synchronized <E extends Sealable<E>> E seal(String persistenceId, E event) {
    E numbered = event.withStamp(event.stamp().numbered(++last));
    String link = Links.link(head, persistenceId, numbered);
    head = link;
    headIndex = last;
    return numbered.withStamp(numbered.stamp().linked(link));
  }

  public synchronized long current() {
    return last;
  }

  /** The index of the last sealed event and its link (the chain's head). */
  public synchronized long headIndex() {
    return headIndex;
  }

  public synchronized String head() {
    return head;
  }

  /** Where a snapshot of the journal left the clock and the chain. */
  public synchronized void restore(long index, long chainIndex, String chainHead) {
    observe(index);
    if (chainHead != null && chainIndex >= headIndex) {
      headIndex = chainIndex;
      head = chainHead;
    }
  }

  public synchronized void observe(long index) {
    last = Math.max(last, index);
  }

  /** An event read back from the journal: the index and the chain go on after the latest. */
  public synchronized void observe(Stamp s) {
    observe(s.index());
    if (s.link() != null && s.index() >= headIndex) {
      head = s.link();
      headIndex = s.index();
    }
  }
}
