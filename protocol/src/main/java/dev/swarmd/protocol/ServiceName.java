package dev.swarmd.protocol;

import java.util.List;
import java.util.Objects;

/**
 * What the swarm's DNS says about one service: its name answers with its virtual IP (endpoint
 * mode vip) or with its tasks' addresses (dnsrr); tasks.&lt;name&gt; always answers with the tasks'
 * addresses, those of its running tasks.
 */
public record ServiceName(String name, String serviceId, String endpointMode, String virtualIp,
    List<String> taskAddresses) implements CborSerializable {
  /** The same, without its virtual IP: the name then answers with its tasks' addresses. */
  public ServiceName withoutVirtualIp() {
    return new ServiceName(name, serviceId, endpointMode, null, taskAddresses);
  }

  public ServiceName {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(serviceId, "serviceId");
    if (!"vip".equals(endpointMode) && !"dnsrr".equals(endpointMode)) {
      throw new IllegalArgumentException("endpoint mode must be vip or dnsrr: " + endpointMode);
    }
    taskAddresses = taskAddresses == null ? List.of() : List.copyOf(taskAddresses);
  }
}
