package dev.swarmd.it.history;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** What one manager's journal says happened to each service: service id to its updates, in journal order. */
public record Journal(Map<String, List<Applied>> services) {
    public Journal {
        services = services.entrySet().stream()
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> List.copyOf(e.getValue())));
    }

    /** The service's updates in journal order; empty if the journal never saw it. */
    public List<Applied> of(String service) {
        return services.getOrDefault(service, List.of());
    }
}
