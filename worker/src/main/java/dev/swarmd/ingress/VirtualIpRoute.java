package dev.swarmd.ingress;

import dev.swarmd.protocol.ServiceName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the swarm's virtual IP range local to this host (a "local" route on lo): the ingress can then
 * listen on any virtual IP, and the containers' connections to one, routed to their gateway, reach
 * it. Needs CAP_NET_ADMIN; without it the node serves no virtual IP and its DNS answers with task
 * addresses instead.
 */
public final class VirtualIpRoute {
  private static final Logger LOG = LoggerFactory.getLogger(VirtualIpRoute.class);

  private VirtualIpRoute() {}

  /** True when the route is in place (added now, or already there). */
  public static boolean install() {
    List<String> cmd = List.of("ip", "route", "replace", "local", ServiceName.VIRTUAL_IP_RANGE, "dev", "lo");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      boolean done = p.waitFor(10, TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly();
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (done && p.exitValue() == 0) {
        return true;
      }
      LOG.warn("virtual IPs are not served on this node: `{}` failed: {}", String.join(" ", cmd),
          done ? out : "timed out");
    } catch (IOException e) {
      LOG.warn("virtual IPs are not served on this node: cannot run `{}`: {}", String.join(" ", cmd), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }
}
