package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.swarmd.swarm.SwarmRuntime;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /swarm: inspect, init and leave. Join and update come with multi-node swarms. */
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
    Json.Reader spec = r.object("Spec");
    if (spec.present() && spec.string("Name") != null && !spec.string("Name").isEmpty()
        && !spec.string("Name").equals("default")) {
      throw ApiException.badRequest("swarm spec must be named \"default\"");
    }
    if (node.runtime().isPresent()) {
      throw ApiException.unavailable(ALREADY_IN_SWARM);
    }
    String id = node.init(new NodeControl.InitRequest(listen, advertise,
        availability == null || availability.isEmpty() ? "active" : availability, Boolean.TRUE.equals(force)));
    LOG.info("swarm initialized by {}: node {} is its manager", call.client(), id);
    return Reply.ok(TextNode.valueOf(id));
  }

  static Reply leave(NodeControl node, Call call) {
    if (node.runtime().isEmpty()) {
      throw ApiException.unavailable("This node is not part of a swarm");
    }
    if (!call.flag("force")) {
      throw ApiException.unavailable("You are attempting to leave the swarm on a node that is participating as a "
          + "manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore "
          + "this message.");
    }
    node.leave(true);
    LOG.info("node left the swarm, asked by {}", call.client());
    return Reply.empty();
  }
}
