package dev.swarmd.endpoint;

import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.ServiceSpec.PortConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The swarm's published ports, as swarmkit's port allocator: an ingress port belongs to one service
 * across the swarm; a host-mode port may be shared by services (the scheduler keeps their tasks on
 * different nodes) but never with an ingress port; an ingress port asked without a number gets one
 * from the dynamic range, kept across updates of the same service. Pure: the caller serializes.
 */
public final class PortAllocator {
  public static final int DYNAMIC_FIRST = 30000;
  public static final int DYNAMIC_LAST = 32767;

  /** A published port that another service holds: Docker's InvalidArgument text. */
  public static final class Conflict extends RuntimeException {
    Conflict(String message) {
      super(message);
    }
  }

  /** What a service holds: its name and its allocated endpoint ports. */
  public record Holder(String serviceId, String serviceName, List<PortConfig> ports) {}

  private PortAllocator() {}

  /**
   * The endpoint ports of a service (serviceId, which holds {@code current} now, empty for a new
   * one) whose spec asks for {@code asked}, given what every other service holds.
   */
  public static List<PortConfig> allocate(String serviceId, ServiceSpec.Endpoint asked, List<PortConfig> current,
      List<Holder> holders) {
    List<Holder> others = holders.stream().filter(h -> !h.serviceId().equals(serviceId)).toList();
    for (PortConfig p : asked.ports()) {
      if (p.publishedPort() > 0) {
        conflict(p, others).ifPresent(m -> {
          throw new Conflict(m);
        });
      }
    }
    Set<String> taken = new HashSet<>();
    others.forEach(h -> h.ports().forEach(p -> taken.add(key(p.protocol(), p.publishedPort()))));
    asked.ports().forEach(p -> taken.add(key(p.protocol(), p.publishedPort())));
    List<PortConfig> reusable = new ArrayList<>(current == null ? List.of() : current);
    List<PortConfig> out = new ArrayList<>();
    for (PortConfig p : asked.ports()) {
      if (p.publishedPort() > 0 || !p.publishMode().equals("ingress")) {
        out.add(p);
        continue;
      }
      PortConfig kept = reusable.stream()
          .filter(c -> c.publishMode().equals("ingress") && c.protocol().equals(p.protocol())
              && c.targetPort() == p.targetPort() && !taken.contains(key(c.protocol(), c.publishedPort())))
          .findFirst().orElse(null);
      int port;
      if (kept != null) {
        reusable.remove(kept);
        port = kept.publishedPort();
      } else {
        port = free(p.protocol(), taken);
      }
      taken.add(key(p.protocol(), port));
      out.add(new PortConfig(p.name(), p.protocol(), p.targetPort(), port, p.publishMode()));
    }
    return List.copyOf(out);
  }

  private static Optional<String> conflict(PortConfig asked, List<Holder> others) {
    for (Holder h : others) {
      for (PortConfig held : h.ports()) {
        if (held.publishedPort() != asked.publishedPort() || !held.protocol().equals(asked.protocol())) {
          continue;
        }
        boolean ingressAsked = asked.publishMode().equals("ingress");
        boolean ingressHeld = held.publishMode().equals("ingress");
        if (ingressHeld || ingressAsked) {
          return Optional.of("port '" + asked.publishedPort() + "' is already in use by service '" + h.serviceName()
              + "' (" + h.serviceId() + ") as " + (ingressHeld ? "an ingress port" : "a host-published port"));
        }
      }
    }
    return Optional.empty();
  }

  private static int free(String protocol, Set<String> taken) {
    for (int p = DYNAMIC_FIRST; p <= DYNAMIC_LAST; p++) {
      if (!taken.contains(key(protocol, p))) {
        return p;
      }
    }
    throw new Conflict("could not find an available port in the dynamic range " + DYNAMIC_FIRST + "-" + DYNAMIC_LAST);
  }

  private static String key(String protocol, int port) {
    return protocol + "/" + port;
  }
}
