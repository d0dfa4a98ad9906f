package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.store.Entities;
import dev.swarmd.swarm.SwarmRuntime;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Docker Engine API (swarm subset) over HTTP. Any /v1.NN prefix is accepted; errors are
 * answered as {"message": ...} with Content-Type exactly application/json, which is what the CLI parses.
 */
public final class ApiServer {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
  private static final Pattern VERSION = Pattern.compile("v\\d+\\.\\d+");
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(30);
  /**
   * The largest request body read: 4 MiB, the most swarmkit's manager receives in one gRPC message, so a
   * larger spec could never become a swarm object under Docker either; reading one only costs memory. Set on
   * each request's entity, it overrides Pekko's max-content-length.
   */
  static final long MAX_BODY_BYTES = 4L << 20;
  static final String NO_SWARM = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm "
      + "join\" to connect this node to swarm and try again.";

  static final String WORKER = "This node is not a swarm manager. Worker nodes can't be used to view or modify "
      + "cluster state. Please run this command on a manager node or promote the current node to a manager.";

  private final ActorSystem<?> system;
  private final NodeControl node;

  public ApiServer(ActorSystem<?> system, NodeControl node) {
    this.system = system;
    this.node = node;
  }

  public CompletionStage<ServerBinding> bind(String host, int port) {
    return Http.get(system).newServerAt(host, port).bind(this::handle);
  }

  private CompletionStage<HttpResponse> handle(HttpRequest request) {
    return RequestBody.read(request, MAX_BODY_BYTES, BODY_TIMEOUT, system)
        .thenCompose(body -> caughtUp().thenCompose(v -> {
          Call call = call(request, body);
          try {
            return route(call);
          } catch (ApiException e) {
            return CompletableFuture.failedFuture(e);
          }
        }))
        .thenApply(this::respond)
        .exceptionally(this::fail)
        .thenApply(this::withHeaders);
  }

  /**
   * On a manager that does not lead, waits until its view has every change committed before the call,
   * so that a client reads what it wrote through any manager. Without a leader the view is served as it is.
   */
  private CompletionStage<Void> caughtUp() {
    var raft = node.runtime().filter(rt -> node.isManager()).map(SwarmRuntime::raftLog).orElse(null);
    if (raft == null) {
      return CompletableFuture.completedFuture(null);
    }
    return raft.barrier().exceptionally(e -> null);
  }

  private Call call(HttpRequest request, byte[] body) {
    List<String> path = Arrays.stream(request.getUri().path().split("/")).filter(s -> !s.isEmpty()).toList();
    if (!path.isEmpty() && VERSION.matcher(path.get(0)).matches()) {
      path = path.subList(1, path.size());
    }
    Map<String, String> query = new HashMap<>(request.getUri().query().toMap());
    String client = request.getAttribute(AttributeKeys.remoteAddress)
        .flatMap(a -> a.getAddress()).map(InetAddress::getHostAddress)
        .orElse("unknown");
    String agent = request.getHeader("User-Agent").map(HttpHeader::value).orElse(null);
    return new Call(request.method().name(), path, query, body, client, agent);
  }

  private CompletionStage<Reply> route(Call c) {
    String head = c.segment(0);
    String m = c.method();
    int n = c.path().size();
    if (head == null) {
      throw ApiException.notFound("page not found");
    }
    switch (head) {
      case "_ping":
        return done(Reply.text("OK"));
      case "version":
        return done(SystemEndpoints.version(node));
      case "info":
        return done(SystemEndpoints.info(node));
      case "distribution":
        if (m.equals("GET") && n >= 3 && "json".equals(c.segment(n - 1))) {
          return done(SystemEndpoints.distribution(node, String.join("/", c.path().subList(1, n - 1))));
        }
        break;
      case "swarm":
        if (n == 2 && m.equals("POST") && "init".equals(c.segment(1))) {
          return done(SwarmEndpoints.init(node, c));
        }
        if (n == 2 && m.equals("POST") && "leave".equals(c.segment(1))) {
          return done(SwarmEndpoints.leave(node, c));
        }
        if (n == 2 && m.equals("POST") && "join".equals(c.segment(1))) {
          return done(SwarmEndpoints.join(node, c));
        }
        if (n == 1 && m.equals("GET")) {
          return done(SwarmEndpoints.inspect(manager()));
        }
        if (n == 2 && m.equals("POST") && "update".equals(c.segment(1))) {
          return SwarmEndpoints.update(manager(), c);
        }
        break;
      case "events":
        if (m.equals("GET") && n == 1) {
          return done(EventsEndpoint.events(node, c));
        }
        break;
      case "swarmd":
        if (m.equals("GET") && n == 2 && "audit".equals(c.segment(1))) {
          return done(EventsEndpoint.audit(node, c));
        }
        break;
      case "nodes":
        return nodes(c, manager());
      case "services":
        return services(c, manager());
      case "tasks":
        if (m.equals("GET") && n == 1) {
          return done(TaskEndpoints.list(manager(), c));
        }
        if (m.equals("GET") && n == 2) {
          return done(TaskEndpoints.inspect(manager(), c.segment(1)));
        }
        break;
      default:
        break;
    }
    throw ApiException.notFound("page not found");
  }

  private CompletionStage<Reply> nodes(Call c, SwarmRuntime rt) {
    String m = c.method();
    int n = c.path().size();
    if (n == 1 && m.equals("GET")) {
      return done(NodeEndpoints.list(rt, node, c));
    }
    if (n == 2 && m.equals("GET")) {
      return done(NodeEndpoints.inspect(rt, node, c.segment(1)));
    }
    if (n == 2 && m.equals("DELETE")) {
      return NodeEndpoints.remove(rt, c, c.segment(1));
    }
    if (n == 3 && m.equals("POST") && "update".equals(c.segment(2))) {
      return NodeEndpoints.update(rt, node, c, c.segment(1));
    }
    throw ApiException.notFound("page not found");
  }

  private CompletionStage<Reply> services(Call c, SwarmRuntime rt) {
    String m = c.method();
    int n = c.path().size();
    if (n == 1 && m.equals("GET")) {
      return done(ServiceEndpoints.list(rt, c));
    }
    if (n == 2 && m.equals("POST") && "create".equals(c.segment(1))) {
      return ServiceEndpoints.create(rt, c);
    }
    if (n == 2 && m.equals("GET")) {
      return done(ServiceEndpoints.inspect(rt, c, c.segment(1)));
    }
    if (n == 2 && m.equals("DELETE")) {
      return ServiceEndpoints.remove(rt, c, c.segment(1));
    }
    if (n == 3 && m.equals("POST") && "update".equals(c.segment(2))) {
      return ServiceEndpoints.update(rt, c, c.segment(1));
    }
    throw ApiException.notFound("page not found");
  }

  private SwarmRuntime manager() {
    SwarmRuntime rt = node.runtime().orElseThrow(() -> ApiException.unavailable(NO_SWARM));
    if (!node.isManager()) {
      throw ApiException.unavailable(WORKER);
    }
    return rt;
  }

  private static CompletionStage<Reply> done(Reply r) {
    return CompletableFuture.completedFuture(r);
  }

  private HttpResponse respond(Reply r) {
    HttpResponse resp = HttpResponse.create().withStatus(r.status());
    if (r.text() != null) {
      return resp.withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, r.text()));
    }
    if (r.stream() != null) {
      return resp.withEntity(HttpEntities.createChunked(ContentTypes.APPLICATION_JSON, r.stream()));
    }
    if (r.body() == null) {
      return resp;
    }
    return resp.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
        Json.write(r.body()).getBytes(StandardCharsets.UTF_8)));
  }

  private HttpResponse fail(Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    ApiException e;
    if (cause instanceof ApiException api) {
      e = api;
    } else if (cause instanceof Entities.NoLeader) {
      e = new ApiException(503, cause.getMessage());
    } else if (cause instanceof TimeoutException) {
      e = new ApiException(503, "the swarm did not answer in time: " + cause.getMessage());
    } else {
      LOG.error("internal error", cause);
      e = new ApiException(500, cause.toString());
    }
    ObjectNode body = Json.object();
    body.put("message", e.getMessage());
    return HttpResponse.create().withStatus(e.status()).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
        Json.write(body).getBytes(StandardCharsets.UTF_8)));
  }

  /** The headers dockerd sends on every answer; the CLI reads them from the ping. */
  private HttpResponse withHeaders(HttpResponse r) {
    String swarm = node.runtime().isEmpty() ? node.localState() : node.isManager() ? "active/manager" : "active/worker";
    return r.addHeaders(List.of(
        RawHeader.create("Api-Version", SystemEndpoints.API_VERSION),
        RawHeader.create("Ostype", "linux"),
        RawHeader.create("Docker-Experimental", "false"),
        RawHeader.create("Swarm", swarm)));
  }
}
