package dev.swarmd.join;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.swarmd.api.ApiException;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.swarm.SwarmCa;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The joining side: checks that the manager's CA is the one the token names (no trust on first
 * use), then trades the token and a fresh public key for a node certificate.
 */
public final class JoinClient {
  private static final Pattern TOKEN = Pattern.compile("^SWMTKN-1-([0-9a-z]{50})-([0-9a-z]{25})$");
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /** What a join brings: the node's identity and where its managers are. */
  public record Joined(String nodeId, String role, KeyPair keys, String certificate, String caCertificate,
      String caKey, String raftGroup, List<String> seeds, String managerAddr) {
    public boolean manager() {
      return "manager".equals(role);
    }
  }

  private JoinClient() {}

  /** Checks a token's form without contacting anyone. */
  public static void checkToken(String token) {
    if (token == null || !TOKEN.matcher(token).matches()) {
      throw ApiException.badRequest("invalid join token");
    }
  }

  public static Joined join(String remote, String token, String addr, String availability,
      NodeDescription description) {
    checkToken(token);
    Matcher m = TOKEN.matcher(token);
    m.matches();
    String expected = m.group(1);
    URI base = URI.create("https://" + (remote.contains(":") ? remote : remote + ":2377"));
    try {
      String caPem = send(client(Tls.fetchingCa()), HttpRequest.newBuilder(base.resolve("/ca")).GET());
      if (!SwarmCa.digest(caPem).equals(expected)) {
        throw ApiException.badRequest("remote CA does not match fingerprint. Expected: " + expected);
      }
      KeyPair keys = SwarmCa.newKeyPair();
      JoinMessages.Request req = new JoinMessages.Request(token, SwarmCa.pem(keys.getPublic()), addr, availability,
          description);
      String body = send(client(Tls.trusting(caPem)), HttpRequest.newBuilder(base.resolve("/join"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(req))));
      JoinMessages.Response r = MAPPER.readValue(body, JoinMessages.Response.class);
      return new Joined(r.nodeId(), r.role() == null ? "worker" : r.role(), keys, r.certificate(), caPem, r.caKey(),
          r.raftGroup(), r.seeds(), r.managerAddr());
    } catch (IOException e) {
      throw new ApiException(503, "could not reach the manager at " + remote + ": " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new ApiException(503, "TLS with the manager at " + remote + " failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted while joining");
    }
  }

  private static HttpClient client(SSLContext ctx) {
    return HttpClient.newBuilder().sslContext(ctx).connectTimeout(TIMEOUT).build();
  }

  private static String send(HttpClient client, HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> resp = client.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    if (resp.statusCode() != 200) {
      String message;
      try {
        message = MAPPER.readValue(resp.body(), JoinMessages.Error.class).message();
      } catch (IOException e) {
        message = resp.body();
      }
      throw new ApiException(resp.statusCode() == 400 ? 400 : 503, message);
    }
    return resp.body();
  }
}
