package dev.swarmd.it;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The machine's real Docker engine (where swarmd runs its containers), through docker-java on the unix socket:
 * what the tests check the daemon's work against, and how they break things behind its back.
 */
public final class Engine implements AutoCloseable {
    public static final String SERVICE_ID = "com.docker.swarm.service.id";
    public static final String SERVICE_NAME = "com.docker.swarm.service.name";
    public static final String TASK_ID = "com.docker.swarm.task.id";
    public static final String TASK_NAME = "com.docker.swarm.task.name";
    public static final String NODE_ID = "com.docker.swarm.node.id";
    public static final String SWARMD_HOSTNAME = "dev.swarmd.node.hostname";

    private final DockerHttpClient http;
    private final DockerClient client;

    private Engine(String host) {
        DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host)
                .withDockerTlsVerify(false)
                .build();
        this.http = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofSeconds(60))
                .build();
        this.client = DockerClientImpl.getInstance(config, http);
    }

    public static Engine connect() {
        return new Engine(ItConfig.engineHost());
    }

    public DockerClient client() {
        return client;
    }

    /** The engine's transport, for raw requests (used in reference mode, where the "daemon" is the engine). */
    public DockerHttpClient http() {
        return http;
    }

    /** Containers carrying all the given labels ({@code null} value = label present), newest first. */
    public List<Container> containers(Map<String, String> labels, boolean all) {
        List<String> filters = new ArrayList<>();
        labels.forEach((k, v) -> filters.add(v == null ? k : k + "=" + v));
        List<Container> list = new ArrayList<>(client.listContainersCmd()
                .withShowAll(all)
                .withLabelFilter(filters)
                .exec());
        list.sort(Comparator.comparing(Container::getCreated).reversed());
        return list;
    }

    public static Map<String, String> labels(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    public InspectContainerResponse inspect(String id) {
        return client.inspectContainerCmd(id).exec();
    }

    /** True if the container exists and is running. */
    public boolean isRunning(String id) {
        try {
            Boolean running = inspect(id).getState().getRunning();
            return running != null && running;
        } catch (NotFoundException e) {
            return false;
        }
    }

    public boolean exists(String id) {
        try {
            inspect(id);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    public String startedAt(String id) {
        return inspect(id).getState().getStartedAt();
    }

    /** SIGKILL, as a crash would. */
    public void kill(String id) {
        client.killContainerCmd(id).exec();
    }

    public void removeForce(String id) {
        try {
            client.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException ignored) {
            // already gone
        }
    }

    /** Removes (force) every container carrying {@code key=value}; returns how many. */
    public int removeAllWithLabel(String key, String value) {
        List<Container> list = containers(Map.of(key, value), true);
        for (Container c : list) {
            removeForce(c.getId());
        }
        return list.size();
    }

    public boolean imageExists(String name) {
        try {
            client.inspectImageCmd(name).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** The container's name without the leading slash. */
    public static String name(Container c) {
        String n = c.getNames() == null || c.getNames().length == 0 ? "" : c.getNames()[0];
        return n.startsWith("/") ? n.substring(1) : n;
    }

    /** The slot in a task name {@code <service>.<slot>.<taskid>}, or -1. */
    public static int slot(Container c) {
        String taskName = c.getLabels().getOrDefault(TASK_NAME, "");
        String service = c.getLabels().getOrDefault(SERVICE_NAME, "");
        if (!taskName.startsWith(service + ".")) {
            return -1;
        }
        String[] rest = taskName.substring(service.length() + 1).split("\\.");
        try {
            return Integer.parseInt(rest[0]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static String describe(List<Container> list) {
        return list.stream()
                .map(c -> c.getId().substring(0, 12) + " " + name(c) + " " + c.getState() + " (" + c.getStatus() + ")")
                .collect(Collectors.joining("\n  ", "[\n  ", "\n]"));
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
