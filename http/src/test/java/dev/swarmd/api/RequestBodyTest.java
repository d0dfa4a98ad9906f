package dev.swarmd.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.Cause;
import dev.swarmd.endpoint.AddressPool;
import dev.swarmd.swarm.SwarmCa;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.raft.RaftLog;
import dev.swarmd.swarm.SwarmRuntime;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request body the API cannot read is the client's error, never ours: above the body limit it is refused
 * with 413, and when it is not the JSON the endpoint reads (cut short, not JSON, not UTF-8, of the wrong
 * type) with 400, each with Docker's {"message": ...} as application/json, which the CLI prints. Refusing it
 * changes nothing: after each one the services are exactly as before.
 *
 * <p>The API runs over a real manager of an initialized swarm (cluster on an ephemeral loopback port, journal in
 * a temporary directory), so that a request that got through would create a service.
 */
class RequestBodyTest {
  static final String CREATE = "/v1.47/services/create";
  static final int TEN_MB = 10 << 20;

  @TempDir
  static Path dataRoot;
  static SwarmRuntime runtime;
  static ActorSystem<Void> apiSystem;
  static RawHttp http;
  static String servicesBefore;

  @BeforeAll
  static void startManagerAndApi() throws Exception {
    Path swarmDir = dataRoot.resolve("swarm");
    Path certDir = swarmDir.resolve("certificates");
    String nodeId = "node1";
    SwarmCa ca = SwarmCa.create(certDir, "cluster1");
    KeyPair keys = SwarmCa.newKeyPair();
    SwarmCa.writeNodeIdentity(certDir, keys.getPrivate(),
        ca.issue(keys.getPublic(), nodeId, "manager", "cluster1", "127.0.0.1", Duration.ofDays(1)), ca.certPem());
    int raftPort;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      raftPort = free.getLocalPort();
    }
    runtime = SwarmRuntime.startManager(swarmDir, nodeId, "127.0.0.1", 0, raftPort,
        List.of(new RaftLog.Peer(nodeId, "127.0.0.1:" + raftPort)), List.of()).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    String token = SwarmCa.joinToken(ca.certPem());
    runtime.entities().swarm(r -> new SwarmEntity.Init("cluster1", SwarmEntity.Settings.defaults(), AddressPool.LEGACY, ca.certPem(),
        token, token, Cause.loop("swarm init", "test"), r)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    apiSystem = ActorSystem.create(Behaviors.empty(), "api");
    int port = new ApiServer(apiSystem, new Manager(runtime)).bind("127.0.0.1", 0).toCompletableFuture()
        .get(10, TimeUnit.SECONDS).localAddress().getPort();
    http = new RawHttp(port);

    RawHttp.Response keep = http.post(CREATE, spec("keep"));
    assertEquals(201, keep.status(), keep.toString());
    servicesBefore = servicesSnapshot();
  }

  @AfterAll
  static void stop() {
    if (apiSystem != null) {
      apiSystem.terminate();
    }
    if (runtime != null) {
      runtime.stop(Duration.ofSeconds(10));
    }
  }

  @AfterEach
  void nothingChanged() {
    assertEquals(servicesBefore, servicesSnapshot(), "the services are as before");
  }

  @Test
  void aTenMegabyteBodyIsRefusedAsTooLarge() {
    byte[] body = paddedSpec("big", TEN_MB);

    String message = assertError(http.post(CREATE, body), 413);
    assertTrue(message.contains("larger than the limit of " + ApiServer.MAX_BODY_BYTES + " bytes"), message);
  }

  @Test
  void aTenMegabyteBodyWithNoLengthAheadIsRefusedAsTooLarge() {
    byte[] body = paddedSpec("big", TEN_MB);

    assertError(http.postChunked(CREATE, body), 413);
  }

  @Test
  void aBodyJustUnderTheLimitIsReadAndJudgedOnItsContent() {
    byte[] body = paddedSpec("bad name!", (int) ApiServer.MAX_BODY_BYTES - 1);

    String message = assertError(http.post(CREATE, body), 400);
    assertTrue(message.contains("name must be valid as a DNS name component"), message);
  }

  @Test
  void aTruncatedJsonBodyIsABadRequest() {
    String spec = spec("cut");

    String message = assertError(http.post(CREATE, spec.substring(0, spec.length() / 2)), 400);
    assertTrue(message.startsWith("invalid JSON: "), message);
  }

  @Test
  void aBodyThatIsNotJsonIsABadRequest() {
    String message = assertError(http.post(CREATE, "not json"), 400);
    assertTrue(message.startsWith("invalid JSON: "), message);
  }

  @Test
  void aBodyThatIsNotUtf8IsABadRequest() {
    byte[] latin1 = spec("caf\u00e9").getBytes(StandardCharsets.ISO_8859_1);

    String message = assertError(http.post(CREATE, latin1), 400);
    assertTrue(message.startsWith("invalid JSON: "), message);
  }

  @Test
  void aJsonArrayWhereASpecIsExpectedIsABadRequest() {
    String message = assertError(http.post(CREATE, "[" + spec("listed") + "]"), 400);
    assertEquals("json: cannot unmarshal array into Go value of type ServiceSpec", message);
  }

  /** A valid spec whose labels pad it to exactly size bytes. */
  static byte[] paddedSpec(String name, int size) {
    String head = "{\"Name\":\"" + name + "\",\"Labels\":{\"pad\":\"";
    String tail = "\"},\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"alpine:latest\"}}}";
    byte[] body = new byte[size];
    Arrays.fill(body, (byte) 'a');
    byte[] h = head.getBytes(StandardCharsets.UTF_8);
    byte[] t = tail.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(h, 0, body, 0, h.length);
    System.arraycopy(t, 0, body, size - t.length, t.length);
    return body;
  }

  static String spec(String name) {
    return "{\"Name\":\"" + name + "\",\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"alpine:latest\","
        + "\"Args\":[\"sleep\",\"3600\"]}}}";
  }

  /** Asserts an error as the CLI needs it: the status, Content-Type exactly application/json, a JSON message. */
  static String assertError(RawHttp.Response r, int status) {
    assertEquals(status, r.status(), r.toString());
    assertEquals("application/json", r.contentType(), r.toString());
    String message = r.json().path("message").asText("");
    assertFalse(message.isBlank(), r.toString());
    return message;
  }

  /** IDs, names and versions of every service, as GET /services gives them. */
  static String servicesSnapshot() {
    RawHttp.Response r = http.get("/v1.47/services");
    assertEquals(200, r.status(), r.toString());
    List<String> items = new ArrayList<>();
    for (JsonNode s : r.json()) {
      items.add(s.path("ID").asText() + " " + s.path("Spec").path("Name").asText() + " "
          + s.path("Version").path("Index").asLong());
    }
    items.sort(null);
    return String.join("\n", items);
  }

  /** This node as the swarm's manager, over the runtime; the calls that change membership are not made here. */
  private record Manager(SwarmRuntime rt) implements NodeControl {
    @Override
    public Optional<SwarmRuntime> runtime() {
      return Optional.of(rt);
    }

    @Override
    public boolean isManager() {
      return true;
    }

    @Override
    public String localState() {
      return "active";
    }

    @Override
    public String nodeId() {
      return rt.nodeId();
    }

    @Override
    public String nodeAddr() {
      return "127.0.0.1";
    }

    @Override
    public String managerAddr() {
      return "127.0.0.1:2377";
    }

    @Override
    public String init(InitRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void join(JoinRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void leave(boolean force) {
      throw new UnsupportedOperationException();
    }

    @Override
    public NodeDescription describe() {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean imagePresent(String image) {
      return true;
    }

    @Override
    public List<String> warnings() {
      return List.of();
    }

    @Override
    public String engineInfo() {
      return "{}";
    }
  }
}
