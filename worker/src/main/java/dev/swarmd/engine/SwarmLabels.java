package dev.swarmd.engine;

/** The labels Docker's swarm mode puts on task containers, plus ours to tell nodes apart on a shared engine. */
public final class SwarmLabels {
  public static final String SERVICE_ID = "com.docker.swarm.service.id";
  public static final String SERVICE_NAME = "com.docker.swarm.service.name";
  public static final String TASK = "com.docker.swarm.task";
  public static final String TASK_ID = "com.docker.swarm.task.id";
  public static final String TASK_NAME = "com.docker.swarm.task.name";
  public static final String NODE_ID = "com.docker.swarm.node.id";
  public static final String HOSTNAME = "dev.swarmd.node.hostname";

  private SwarmLabels() {}
}
