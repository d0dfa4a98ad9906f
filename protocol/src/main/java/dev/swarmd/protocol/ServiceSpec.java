package dev.swarmd.protocol;

import java.util.List;
import java.util.Map;

/**
 * What a user asked a service to be: our domain model of Docker's ServiceSpec. Durations are
 * nanoseconds, as in Docker's API, so that what a client sends comes back unchanged.
 */
public record ServiceSpec(
    String name,
    Map<String, String> labels,
    TaskSpec task,
    Mode mode,
    UpdatePolicy update,
    UpdatePolicy rollback,
    Endpoint endpoint)
    implements CborSerializable {

  public enum ModeKind { REPLICATED, GLOBAL }

  /** replicas is meaningful for REPLICATED only. */
  public record Mode(ModeKind kind, long replicas) implements CborSerializable {
    public static Mode replicated(long n) {
      return new Mode(ModeKind.REPLICATED, n);
    }

    public static Mode global() {
      return new Mode(ModeKind.GLOBAL, 0);
    }
  }

  public record TaskSpec(
      ContainerSpec container,
      RestartPolicy restart,
      Placement placement,
      Resources resources,
      long forceUpdate)
      implements CborSerializable {}

  public record ContainerSpec(
      String image,
      Map<String, String> labels,
      List<String> command,
      List<String> args,
      List<String> env,
      String dir,
      String user,
      String hostname,
      boolean tty,
      boolean openStdin,
      Boolean init,
      Long stopGracePeriod,
      String stopSignal,
      HealthConfig healthcheck)
      implements CborSerializable {}

  /**
   * Docker's HealthConfig: test is ["NONE"] (disable the image's), ["CMD", ...] or ["CMD-SHELL",
   * cmd], or empty to inherit the image's test. Zero durations and retries inherit too.
   */
  public record HealthConfig(List<String> test, long interval, long timeout, long startPeriod, long startInterval,
      int retries) implements CborSerializable {
    public boolean disabled() {
      return test != null && !test.isEmpty() && test.get(0).equals("NONE");
    }
  }

  /** Null fields take Docker's defaults (condition any, delay 5 s, unlimited attempts). */
  public record RestartPolicy(String condition, Long delay, Long maxAttempts, Long window)
      implements CborSerializable {}

  public record Placement(List<String> constraints, long maxReplicas) implements CborSerializable {}

  public record Resources(long limitNanoCpus, long limitMemoryBytes, long reserveNanoCpus, long reserveMemoryBytes)
      implements CborSerializable {}

  public record UpdatePolicy(
      long parallelism, long delay, String failureAction, long monitor, double maxFailureRatio, String order)
      implements CborSerializable {}

  public record Endpoint(String mode, List<PortConfig> ports) implements CborSerializable {}

  public record PortConfig(String name, String protocol, int targetPort, int publishedPort, String publishMode)
      implements CborSerializable {}

  public ServiceSpec withMode(Mode m) {
    return new ServiceSpec(name, labels, task, m, update, rollback, endpoint);
  }
}
