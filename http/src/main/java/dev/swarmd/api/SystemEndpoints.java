package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.swarm.SwarmRuntime;
import java.util.Optional;

/** /version, /info and /distribution: what the CLI asks before and around swarm commands. */
final class SystemEndpoints {
  static final String API_VERSION = "1.47";
  static final String MIN_API_VERSION = "1.24";
  static final String VERSION = "0.1.0";

  private SystemEndpoints() {}

  static Reply version(NodeControl node) {
    NodeDescription d = node.describe();
    ObjectNode o = Json.object();
    o.putObject("Platform").put("Name", "swarmd " + VERSION);
    ArrayNode components = o.putArray("Components");
    ObjectNode c = components.addObject();
    c.put("Name", "swarmd");
    c.put("Version", VERSION);
    o.put("Version", VERSION);
    o.put("ApiVersion", API_VERSION);
    o.put("MinAPIVersion", MIN_API_VERSION);
    o.put("GitCommit", "");
    o.put("GoVersion", "java " + System.getProperty("java.version"));
    o.put("Os", d.os());
    o.put("Arch", goArch(d.architecture()));
    o.put("KernelVersion", System.getProperty("os.version"));
    return Reply.ok(o);
  }

  /** The CLI prints Go's architecture names. */
  private static String goArch(String arch) {
    return switch (arch == null ? "" : arch) {
      case "x86_64" -> "amd64";
      case "aarch64" -> "arm64";
      default -> arch;
    };
  }

  /** The engine's own /info, with the Swarm section and name of this swarmd node. */
  static Reply info(NodeControl node) {
    JsonNode engine = Json.parse(node.engineInfo().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    ObjectNode o = engine.isObject() ? (ObjectNode) engine : Json.object();
    o.put("Name", node.describe().hostname());
    o.set("Swarm", swarm(node));
    if (!node.warnings().isEmpty()) {
      JsonNode engineWarnings = o.get("Warnings");
      ArrayNode warnings = o.putArray("Warnings");
      if (engineWarnings != null && engineWarnings.isArray()) {
        warnings.addAll((ArrayNode) engineWarnings);
      }
      node.warnings().forEach(warnings::add);
    }
    return Reply.ok(o);
  }

  private static ObjectNode swarm(NodeControl node) {
    ObjectNode s = Json.object();
    Optional<SwarmRuntime> rt = node.runtime();
    s.put("NodeID", node.nodeId());
    s.put("NodeAddr", node.nodeAddr());
    s.put("LocalNodeState", node.localState());
    s.put("ControlAvailable", node.isManager());
    s.put("Error", "");
    if (rt.isEmpty() || !node.isManager()) {
      if (node.managerAddr() == null) {
        s.putNull("RemoteManagers");
      } else {
        s.putArray("RemoteManagers").addObject().put("NodeID", "").put("Addr", node.managerAddr());
      }
      return s;
    }
    var view = rt.get().view();
    ArrayNode managers = s.putArray("RemoteManagers");
    view.nodes().stream().filter(n -> "manager".equals(n.spec().role()) && n.managerAddr() != null)
        .forEach(n -> managers.addObject().put("NodeID", n.id()).put("Addr", n.managerAddr()));
    s.put("Nodes", view.nodes().size());
    s.put("Managers", view.nodes().stream().map(NodeEntity.State::spec)
        .filter(sp -> "manager".equals(sp.role())).count());
    if (view.swarm().exists()) {
      s.set("Cluster", SwarmJson.render(view.swarm(), false));
    }
    return s;
  }

  /**
   * The CLI asks for an image's registry digest before creating a service. No registry is asked
   * here: an image the engine has answers with no digest, so the CLI keeps the name as given; any
   * other is not found, and the CLI warns that each node will resolve it on its own.
   */
  static Reply distribution(NodeControl node, String image) {
    if (!node.imagePresent(image)) {
      throw ApiException.notFound("No such image: " + image);
    }
    ObjectNode o = Json.object();
    o.putObject("Descriptor");
    o.putArray("Platforms");
    return Reply.ok(o);
  }
}
