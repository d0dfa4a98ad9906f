package dev.swarmd.view;

import dev.swarmd.endpoint.PortAllocator;
import dev.swarmd.endpoint.VirtualIps;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.Stamp;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The read side: the current state of every object, folded from the journal at start and then fed
 * by each entity after its event is persisted. List queries and the control loops read it; nothing
 * writes through it.
 */
public final class SwarmView {
  private final Map<String, ServiceEntity.State> services = new ConcurrentHashMap<>();
  private final Map<String, TaskEntity.State> tasks = new ConcurrentHashMap<>();
  private final Map<String, NodeEntity.State> nodes = new ConcurrentHashMap<>();
  private volatile SwarmEntity.State swarm = SwarmEntity.State.empty();
  private final Map<String, String> reservedNames = new ConcurrentHashMap<>();
  /** Ports allocated to a service create or update whose event is not persisted yet. */
  private final Map<String, PortAllocator.Holder> reservedPorts = new ConcurrentHashMap<>();
  /** Virtual IPs allocated likewise. */
  private final Map<String, String> reservedVips = new ConcurrentHashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public void put(ServiceEntity.State s) {
    if (s.exists()) {
      services.put(s.id(), s);
    } else {
      services.remove(s.id());
    }
    changed();
  }

  public void put(TaskEntity.State t) {
    if (t.exists()) {
      tasks.put(t.id(), t);
    } else {
      tasks.remove(t.id());
    }
    changed();
  }

  public void put(NodeEntity.State n) {
    if (n.exists()) {
      nodes.put(n.id(), n);
    } else {
      nodes.remove(n.id());
    }
    changed();
  }

  public void put(SwarmEntity.State s) {
    swarm = s;
    changed();
  }

  /** Folds one journal event into the view (start-up replay); returns its stamp, null if not the view's. */
  public Stamp replay(String persistenceId, Object event) {
    int bar = persistenceId.indexOf('|');
    String type = persistenceId.substring(0, bar);
    String id = persistenceId.substring(bar + 1);
    if (type.equals(ServiceEntity.KEY.name()) && event instanceof ServiceEntity.Event e) {
      put(services.getOrDefault(id, ServiceEntity.State.empty(id)).apply(e));
      return e.stamp();
    }
    if (type.equals(TaskEntity.KEY.name()) && event instanceof TaskEntity.Event e) {
      put(tasks.getOrDefault(id, TaskEntity.State.empty(id)).apply(e));
      return e.stamp();
    }
    if (type.equals(NodeEntity.KEY.name()) && event instanceof NodeEntity.Event e) {
      put(nodes.getOrDefault(id, NodeEntity.State.empty(id)).apply(e));
      return e.stamp();
    }
    if (type.equals(SwarmEntity.KEY.name()) && event instanceof SwarmEntity.Event e) {
      put(swarm.apply(e));
      return e.stamp();
    }
    return null;
  }

  public void watch(Runnable listener) {
    listeners.add(listener);
  }

  private void changed() {
    listeners.forEach(Runnable::run);
  }

  public SwarmEntity.State swarm() {
    return swarm;
  }

  public Collection<ServiceEntity.State> services() {
    return services.values();
  }

  public Collection<TaskEntity.State> tasks() {
    return tasks.values();
  }

  public Collection<NodeEntity.State> nodes() {
    return nodes.values();
  }

  public Optional<ServiceEntity.State> service(String id) {
    return Optional.ofNullable(services.get(id));
  }

  public Optional<TaskEntity.State> task(String id) {
    return Optional.ofNullable(tasks.get(id));
  }

  public Optional<NodeEntity.State> node(String id) {
    return Optional.ofNullable(nodes.get(id));
  }

  public List<TaskEntity.State> tasksOf(String serviceId) {
    return tasks.values().stream()
        .filter(t -> t.definition().serviceId().equals(serviceId))
        .collect(Collectors.toList());
  }

  /** Docker's lookup: full ID, then exact name, then unique ID prefix. */
  private <T> Lookup<T> lookup(String ref, Map<String, T> byId, Function<T, List<String>> names) {
    T exact = byId.get(ref);
    if (exact != null) {
      return Lookup.found(exact);
    }
    List<T> named = byId.values().stream().filter(v -> names.apply(v).contains(ref)).toList();
    if (named.size() == 1) {
      return Lookup.found(named.get(0));
    }
    if (named.size() > 1) {
      return Lookup.ambiguous(named.size());
    }
    List<T> prefixed = new ArrayList<>();
    for (Map.Entry<String, T> e : byId.entrySet()) {
      if (e.getKey().startsWith(ref)) {
        prefixed.add(e.getValue());
      }
    }
    if (prefixed.size() == 1) {
      return Lookup.found(prefixed.get(0));
    }
    return prefixed.isEmpty() ? Lookup.missing() : Lookup.ambiguous(prefixed.size());
  }

  public Lookup<ServiceEntity.State> findService(String ref) {
    return ref.isEmpty() ? Lookup.missing() : lookup(ref, services, s -> List.of(s.spec().name()));
  }

  public Lookup<NodeEntity.State> findNode(String ref) {
    return ref.isEmpty() ? Lookup.missing() : lookup(ref, nodes, n -> {
      List<String> names = new ArrayList<>();
      if (n.spec().name() != null && !n.spec().name().isEmpty()) {
        names.add(n.spec().name());
      }
      names.add(n.description().hostname());
      return names;
    });
  }

  public Lookup<TaskEntity.State> findTask(String ref) {
    return ref.isEmpty() ? Lookup.missing() : lookup(ref, tasks, t -> List.of());
  }

  /**
   * Claims a service name until released, so that two concurrent creates cannot both take it.
   * Returns false when a live service or another claim holds the name.
   */
  public boolean reserveName(String name, String serviceId) {
    boolean taken = services.values().stream().anyMatch(s -> s.spec().name().equals(name));
    return !taken && reservedNames.putIfAbsent(name, serviceId) == null;
  }

  public void releaseName(String name) {
    reservedNames.remove(name);
  }

  /**
   * Allocates the endpoint ports of service serviceId (named name, holding current now) for the
   * endpoint asked, against every other service's ports and those being allocated, and holds them
   * until {@link #releaseEndpoint}. Throws PortAllocator.Conflict.
   */
  public synchronized List<ServiceSpec.PortConfig> reservePorts(String serviceId, String name,
      ServiceSpec.Endpoint asked, List<ServiceSpec.PortConfig> current) {
    List<PortAllocator.Holder> holders = new ArrayList<>(reservedPorts.values());
    services.values().forEach(s -> holders.add(new PortAllocator.Holder(s.id(), s.spec().name(), s.endpointPorts())));
    List<ServiceSpec.PortConfig> ports = PortAllocator.allocate(serviceId, asked, current, holders);
    reservedPorts.put(serviceId, new PortAllocator.Holder(serviceId, name, ports));
    return ports;
  }

  /**
   * The virtual IP of service serviceId (holding current now) for the endpoint asked: its own if it
   * has one, else the lowest free, held until {@link #releaseEndpoint}; null in endpoint mode dnsrr.
   */
  public synchronized String reserveVirtualIp(String serviceId, ServiceSpec.Endpoint asked, String current) {
    if (asked != null && "dnsrr".equals(asked.mode())) {
      return null;
    }
    if (current != null) {
      return current;
    }
    Set<String> taken = new HashSet<>(reservedVips.values());
    services.values().stream().map(ServiceEntity.State::virtualIp).filter(Objects::nonNull).forEach(taken::add);
    String ip = VirtualIps.allocate(swarm().addressPool().subnet(), taken);
    reservedVips.put(serviceId, ip);
    return ip;
  }

  /** Lets go of what was reserved for a create or update: its event is persisted, or it failed. */
  public void releaseEndpoint(String serviceId) {
    reservedPorts.remove(serviceId);
    reservedVips.remove(serviceId);
  }

  /** The result of a lookup by reference. */
  public record Lookup<T>(T value, int matches) {
    static <T> Lookup<T> found(T v) {
      return new Lookup<>(v, 1);
    }

    static <T> Lookup<T> missing() {
      return new Lookup<>(null, 0);
    }

    static <T> Lookup<T> ambiguous(int n) {
      return new Lookup<>(null, n);
    }
  }
}
