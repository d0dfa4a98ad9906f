package dev.swarmd.join;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.swarmd.api.ApiException;
import dev.swarmd.api.RequestBody;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.raft.RaftLog;
import dev.swarmd.swarm.SwarmCa;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.swarm.SwarmRuntime;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's join endpoint (port 2377, TLS with the manager's certificate). A joining node
 * fetches the CA certificate, checks it against its token, then presents the token and its public
 * key; a valid worker token gets it a node ID and a certificate signed by the swarm's CA, which is
 * what lets it into the cluster.
 */
public final class JoinServer {
  private static final Logger LOG = LoggerFactory.getLogger(JoinServer.class);
  /** A join request is a token, a key and a node description: a few KiB. */
  private static final long MAX_BODY_BYTES = 64 << 10;
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);
  static final String BAD_TOKEN =
      "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster";
  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final ActorSystem<?> system;
  private final SwarmRuntime rt;
  private final SwarmCa ca;

  /** Where a joining manager serves joins in turn: Docker's default listen port (--listen-addr). */
  private static final int DEFAULT_LISTEN_PORT = 2377;

  private JoinServer(ActorSystem<?> system, SwarmRuntime rt, SwarmCa ca) {
    this.system = system;
    this.rt = rt;
    this.ca = ca;
  }

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, SwarmRuntime rt, Path certDir,
      String host, int port) {
    JoinServer server = new JoinServer(system, rt, SwarmCa.load(certDir));
    return Http.get(system).newServerAt(host, port)
        .enableHttps(ConnectionContext.httpsServer(Tls.server(certDir)))
        .bind(server::handle);
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    String path = request.getUri().path();
    if (request.method().name().equals("GET") && path.equals("/ca")) {
      return CompletableFuture.completedFuture(HttpResponse.create()
          .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, ca.certPem())));
    }
    if (!request.method().name().equals("POST") || !path.equals("/join")) {
      return CompletableFuture.completedFuture(error(404, "page not found"));
    }
    return RequestBody.read(request, MAX_BODY_BYTES, BODY_TIMEOUT, system)
        .thenCompose(body -> join(new String(body, StandardCharsets.UTF_8)))
        .exceptionally(e -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause instanceof ApiException client) {
            return error(client.status(), client.getMessage());
          }
          LOG.warn("join failed: {}", cause.toString());
          return error(500, cause.getMessage());
        });
  }

  private CompletionStage<HttpResponse> join(String body) {
    JoinMessages.Request req;
    PublicKey key;
    try {
      req = MAPPER.readValue(body, JoinMessages.Request.class);
      key = publicKey(req.publicKey());
    } catch (IOException | RuntimeException e) {
      return done(error(400, "invalid join request: " + e.getMessage()));
    }
    SwarmEntity.State swarm = rt.view().swarm();
    if (req.token() == null || req.description() == null || req.addr() == null) {
      return done(error(400, "invalid join request: token, addr and description are required"));
    }
    boolean manager = req.token().equals(swarm.managerToken());
    if (!manager && !req.token().equals(swarm.workerToken())) {
      return done(error(400, BAD_TOKEN));
    }
    String host = req.addr();
    if (manager && (rt.raftLog() == null || !rt.raftLog().isLeader())) {
      String leader = rt.raftLog() == null ? null : rt.raftLog().leader().flatMap(id -> rt.view().node(id))
          .map(NodeEntity.State::managerAddr).orElse(null);
      return done(error(503, "managers join through the leader" + (leader == null ? "" : ": join at " + leader)));
    }
    String availability = req.availability() == null || req.availability().isEmpty() ? "active" : req.availability();
    if (!Set.of("active", "pause", "drain").contains(availability)) {
      return done(error(400, "invalid availability: " + availability));
    }
    String nodeId = Ids.newId();
    String role = manager ? "manager" : "worker";
    // A manager's certificate names its address: the other managers check it on every Raft connection.
    String cert = ca.issue(key, nodeId, role, swarm.clusterId(), manager ? host : null,
        Duration.ofNanos(swarm.settings().nodeCertExpiry()));
    NodeSpec spec = new NodeSpec(null, Map.of(), role, availability);
    String managerAddr = manager ? host + ":" + DEFAULT_LISTEN_PORT : null;
    Cause cause = Cause.loop("join", role + " " + req.description().hostname() + " at " + req.addr());
    return rt.entities().node(nodeId, r -> new NodeEntity.Register(spec, req.description(), req.addr(), managerAddr,
            "unknown", cause, r))
        .thenApply(r -> {
          if (r.failure() != null) {
            return error(500, r.failure().message());
          }
          LOG.info("node {} ({}) joined the swarm as a {} from {}", nodeId, req.description().hostname(), role,
              req.addr());
          if (manager) {
            // Raft catches the new member up once it runs, then counts it as a voter.
            RaftLog.Peer peer = new RaftLog.Peer(nodeId, host + ":" + RaftLog.PORT);
            rt.raftLog().addPeer(peer).whenComplete((v, e) -> {
              if (e != null) {
                LOG.warn("manager {} was not added to the raft group: {}", nodeId, e.toString());
              }
            });
          }
          String seed = Cluster.get(rt.system()).selfMember().address().toString();
          return json(200, new JoinMessages.Response(nodeId, role, cert, ca.certPem(), manager ? ca.keyPem() : null,
              manager ? rt.raftGroup().toString() : null, List.of(seed),
              rt.view().node(rt.nodeId()).map(NodeEntity.State::managerAddr).orElse(null)));
        });
  }

  private static PublicKey publicKey(String pem) throws IOException {
    Object o = new PEMParser(new StringReader(pem == null ? "" : pem)).readObject();
    if (!(o instanceof SubjectPublicKeyInfo info)) {
      throw new IOException("publicKey is not a PEM public key");
    }
    return new JcaPEMKeyConverter().getPublicKey(info);
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }

  private static HttpResponse error(int status, String message) {
    return json(status, new JoinMessages.Error(message));
  }

  private static HttpResponse json(int status, Object body) {
    try {
      return HttpResponse.create().withStatus(status).withEntity(
          HttpEntities.create(ContentTypes.APPLICATION_JSON, MAPPER.writeValueAsString(body).getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
