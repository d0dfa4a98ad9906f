package dev.swarmd.protocol;

/**
 * Who or what asked for a change, recorded in every event: an API call ("api", with the client and
 * endpoint) or a control loop ("orchestrator", "scheduler", "agent:<node>") with its reason.
 */
public record Cause(String actor, String reason) implements CborSerializable {
  public static Cause api(String client, String endpoint) {
    return new Cause("api " + client, endpoint);
  }

  public static Cause loop(String loop, String reason) {
    return new Cause(loop, reason);
  }
}
