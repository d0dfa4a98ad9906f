package dev.swarmd.protocol;

import java.util.Locale;

/** Swarmkit's task states, in their order: a task's state only moves forward. */
public enum TaskState {
  NEW, PENDING, ASSIGNED, ACCEPTED, PREPARING, READY, STARTING, RUNNING,
  COMPLETE, SHUTDOWN, FAILED, REJECTED, REMOVE, ORPHANED;

  public String apiName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static TaskState fromApiName(String s) {
    return valueOf(s.toUpperCase(Locale.ROOT));
  }

  /** Past running: the task will not run (again). */
  public boolean terminal() {
    return compareTo(RUNNING) > 0;
  }

  public boolean atLeast(TaskState other) {
    return compareTo(other) >= 0;
  }
}
