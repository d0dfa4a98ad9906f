package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.swarmd.swarm.SwarmCa;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.swarm.SwarmRuntime;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /swarm: inspect, init, update (settings, token rotation) and leave. Join comes with multi-node swarms. */
final class SwarmEndpoints {
  private static final Logger LOG = LoggerFactory.getLogger(SwarmEndpoints.class);
  static final String ALREADY_IN_SWARM = "This node is already part of a swarm. Use \"docker swarm leave\" to "
      + "leave this swarm and join another one.";

  private SwarmEndpoints() {}

  static Reply inspect(SwarmRuntime rt) {
    return Reply.ok(SwarmJson.render(rt.view().swarm(), true));
  }

  static Reply init(NodeControl node, Call call) {
    Json.Reader r = new Json.Reader(call.json(), "InitRequest");
    String listen = r.string("ListenAddr");
    String advertise = r.string("AdvertiseAddr");
    String availability = r.string("Availability");
    if (availability != null && !availability.isEmpty() && !Set.of("active", "pause", "drain").contains(availability)) {
      throw ApiException.badRequest("invalid Availability: " + availability);
    }
    Boolean force = r.bool("ForceNewCluster");
    List<String> pools = r.strings("DefaultAddrPool");
    Long subnetSize = r.integer("SubnetSize", true);
    if (subnetSize != null && subnetSize > Integer.MAX_VALUE) {
      throw ApiException.badRequest("subnet size is out of range: " + subnetSize);
    }
    Json.Reader spec = r.object("Spec");
    if (spec.present() && spec.string("Name") != null && !spec.string("Name").isEmpty()
        && !spec.string("Name").equals("default")) {
      throw ApiException.badRequest("swarm spec must be named \"default\"");
    }
    if (node.runtime().isPresent() && !Boolean.TRUE.equals(force)) {
      throw ApiException.unavailable(ALREADY_IN_SWARM);
    }
    String id = node.init(new NodeControl.InitRequest(listen, advertise,
        availability == null || availability.isEmpty() ? "active" : availability, Boolean.TRUE.equals(force),
        pools == null ? List.of() : pools, subnetSize == null ? 0 : subnetSize.intValue()));
    LOG.info("swarm initialized by {}: node {} is its manager", call.client(), id);
    return Reply.ok(TextNode.valueOf(id));
  }

  /** `docker swarm update` and `docker swarm join-token --rotate`. */
  static CompletionStage<Reply> update(SwarmRuntime rt, Call call) {
    long version = call.version("swarm");
    SwarmEntity.State current = rt.view().swarm();
    SwarmEntity.Settings settings = parseSettings(call.json(), current.settings());
    if (call.flag("rotateManagerUnlockKey")) {
      throw ApiException.badRequest("rpc error: code = InvalidArgument desc = autolock is not supported by swarmd yet");
    }
    String worker = call.flag("rotateWorkerToken") ? SwarmCa.joinToken(current.caCertPem()) : null;
    String manager = call.flag("rotateManagerToken") ? SwarmCa.joinToken(current.caCertPem()) : null;
    return rt.entities().swarm(r -> new SwarmEntity.Update(settings, worker, manager, version, call.cause(), r))
        .thenApply(r -> {
          if (r.failure() != null) {
            throw ApiException.of(r.failure());
          }
          if (worker != null || manager != null) {
            LOG.info("join tokens rotated ({}{}) by {}", worker != null ? "worker " : "", manager != null ? "manager" : "",
                call.client());
          }
          return Reply.empty();
        });
  }

  /** A swarm Spec: the settings swarmd has, each kept as it is when absent; others refused when set. */
  private static SwarmEntity.Settings parseSettings(JsonNode body, SwarmEntity.Settings cur) {
    Json.Reader spec = new Json.Reader(body, "Spec");
    String name = spec.string("Name");
    if (name != null && !name.isEmpty() && !name.equals("default")) {
      throw invalid("swarm spec must be named \"default\"");
    }
    Long history = spec.object("Orchestration").integer("TaskHistoryRetentionLimit", false);
    if (history != null && history < 0) {
      throw invalid("task history retention limit must be non-negative");
    }
    Long heartbeat = spec.object("Dispatcher").integer("HeartbeatPeriod", false);
    if (heartbeat != null && heartbeat <= 0) {
      throw invalid("heartbeat period must be positive");
    }
    Json.Reader ca = spec.object("CAConfig");
    Long expiry = ca.integer("NodeCertExpiry", false);
    if (expiry != null && expiry < Duration.ofHours(1).toNanos()) {
      throw invalid("minimum certificate expiry time is: 1h0m0s");
    }
    if (!ca.objects("ExternalCAs").isEmpty() || ca.has("SigningCACert")) {
      throw invalid("external CAs are not supported by swarmd yet");
    }
    if (Boolean.TRUE.equals(spec.object("EncryptionConfig").bool("AutoLockManagers"))) {
      throw invalid("autolock is not supported by swarmd yet");
    }
    Long snapshots = spec.object("Raft").integer("SnapshotInterval", true);
    return new SwarmEntity.Settings(cur.name(), history == null ? cur.taskHistoryRetentionLimit() : history,
        heartbeat == null ? cur.heartbeatPeriod() : heartbeat, expiry == null ? cur.nodeCertExpiry() : expiry,
        snapshots == null ? cur.snapshotInterval() : snapshots, cur.dataPathPort());
  }

  private static ApiException invalid(String message) {
    return ApiException.badRequest("rpc error: code = InvalidArgument desc = " + message);
  }

  static Reply join(NodeControl node, Call call) {
    Json.Reader r = new Json.Reader(call.json(), "JoinRequest");
    String availability = r.string("Availability");
    if (availability != null && !availability.isEmpty() && !Set.of("active", "pause", "drain").contains(availability)) {
      throw ApiException.badRequest("invalid Availability: " + availability);
    }
    List<String> remotes = r.strings("RemoteAddrs");
    node.join(new NodeControl.JoinRequest(r.string("ListenAddr"), r.string("AdvertiseAddr"),
        remotes == null ? List.of() : remotes, r.string("JoinToken"),
        availability == null || availability.isEmpty() ? "active" : availability));
    LOG.info("joined a swarm as a worker, asked by {}", call.client());
    return Reply.empty();
  }

  static Reply leave(NodeControl node, Call call) {
    if (node.runtime().isEmpty() && node.localState().equals("inactive")) {
      throw ApiException.unavailable("This node is not part of a swarm");
    }
    if (node.isManager() && !call.flag("force")) {
      throw ApiException.unavailable("You are attempting to leave the swarm on a node that is participating as a "
          + "manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore "
          + "this message.");
    }
    node.leave(true);
    LOG.info("node left the swarm, asked by {}", call.client());
    return Reply.empty();
  }
}
