package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.swarm.SwarmRuntime;
import dev.swarmd.view.SwarmView;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /nodes: list, inspect, update (availability, labels, role) and remove. */
final class NodeEndpoints {
  private static final Logger LOG = LoggerFactory.getLogger(NodeEndpoints.class);
  private static final Set<String> FILTERS = Set.of("id", "name", "label", "role", "membership", "node.label");

  private NodeEndpoints() {}

  static Reply list(SwarmRuntime rt, NodeControl node, Call call) {
    Filters f = Filters.parse(call.param("filters"), FILTERS);
    for (String m : f.get("membership")) {
      if (!m.equals("accepted") && !m.equals("pending")) {
        throw ApiException.badRequest("Invalid membership filter value: " + m);
      }
    }
    ArrayNode out = Json.array();
    rt.view().nodes().stream()
        .filter(n -> f.any("id", v -> n.id().startsWith(v)))
        .filter(n -> f.any("name", v -> n.description().hostname().startsWith(v)
            || (n.spec().name() != null && n.spec().name().startsWith(v))))
        .filter(n -> f.any("role", v -> v.equals(n.spec().role())))
        .filter(n -> f.any("membership", v -> v.equals("accepted")))
        .filter(n -> f.labels("label", n.description().engineLabels()))
        .filter(n -> f.labels("node.label", n.spec().labels()))
        .sorted(Comparator.comparing(NodeEntity.State::createdAt))
        .forEach(n -> out.add(render(rt, node, n)));
    return Reply.ok(out);
  }

  static Reply inspect(SwarmRuntime rt, NodeControl node, String ref) {
    return Reply.ok(render(rt, node, find(rt, ref)));
  }

  static CompletionStage<Reply> update(SwarmRuntime rt, NodeControl node, Call call, String ref) {
    NodeEntity.State current = find(rt, ref);
    long version = call.version("node");
    NodeSpec spec = NodeJson.parseSpec(call.json());
    if (!spec.role().equals(current.spec().role())) {
      if (spec.role().equals("worker") && managers(rt) <= 1) {
        throw new ApiException(400,
            "rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm");
      }
      throw new ApiException(400, "rpc error: code = Unimplemented desc = changing a node's role is not supported "
          + "by swarmd yet: a swarm has one manager until managers share a journal");
    }
    return rt.entities().node(current.id(), r -> new NodeEntity.UpdateSpec(spec, version, call.cause(), r))
        .thenApply(r -> {
          if (r.failure() != null) {
            throw ApiException.of(r.failure());
          }
          LOG.info("node {} ({}) spec updated: availability {}, by {}", current.description().hostname(),
              current.id(), spec.availability(), call.client());
          return Reply.empty();
        });
  }

  static CompletionStage<Reply> remove(SwarmRuntime rt, Call call, String ref) {
    NodeEntity.State current = find(rt, ref);
    if ("manager".equals(current.spec().role())) {
      throw new ApiException(400, "rpc error: code = FailedPrecondition desc = node " + current.id()
          + " is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal");
    }
    if (current.ready() && !call.flag("force")) {
      throw new ApiException(400, "rpc error: code = FailedPrecondition desc = node " + current.id()
          + " is not down and can't be removed");
    }
    return rt.entities().node(current.id(), r -> new NodeEntity.Remove(call.cause(), r)).thenApply(r -> {
      if (r.failure() != null) {
        throw ApiException.of(r.failure());
      }
      LOG.info("node {} removed by {}", current.id(), call.client());
      return Reply.empty();
    });
  }

  static NodeEntity.State find(SwarmRuntime rt, String ref) {
    SwarmView.Lookup<NodeEntity.State> l = rt.view().findNode(ref);
    if (l.matches() > 1) {
      throw ApiException.badRequest("node " + ref + " is ambiguous (" + l.matches() + " matches found)");
    }
    if (l.value() == null) {
      throw ApiException.notFound("node " + ref + " not found");
    }
    return l.value();
  }

  private static long managers(SwarmRuntime rt) {
    return rt.view().nodes().stream().filter(n -> "manager".equals(n.spec().role())).count();
  }

  private static com.fasterxml.jackson.databind.node.ObjectNode render(SwarmRuntime rt, NodeControl node,
      NodeEntity.State n) {
    String leader = rt.raftLog() == null ? null : rt.raftLog().leader().orElse(null);
    return NodeJson.render(n, leader, rt.view().swarm().caCertPem());
  }

}
