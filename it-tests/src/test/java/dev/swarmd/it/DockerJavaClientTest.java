package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateServiceResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.ContainerSpec;
import com.github.dockerjava.api.model.Service;
import com.github.dockerjava.api.model.ServiceModeConfig;
import com.github.dockerjava.api.model.ServiceReplicatedModeOptions;
import com.github.dockerjava.api.model.ServiceSpec;
import com.github.dockerjava.api.model.Swarm;
import com.github.dockerjava.api.model.SwarmNode;
import com.github.dockerjava.api.model.SwarmNodeRole;
import com.github.dockerjava.api.model.SwarmNodeState;
import com.github.dockerjava.api.model.Task;
import com.github.dockerjava.api.model.TaskSpec;
import com.github.dockerjava.api.model.TaskState;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** docker-java's swarm client (API 1.41 over tcp://127.0.0.N:2375) as another peer of the daemon's API. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerJavaClientTest {
    static final int N = 13;
    static TestNode node;
    static DockerClient docker;
    static String serviceId;

    @BeforeAll
    static void start() {
        node = TestNode.start("java", N);
        node.swarmInit().ok();
        DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(node.dockerHost())
                .withDockerTlsVerify(false)
                .withApiVersion("1.41")
                .build();
        docker = DockerClientImpl.getInstance(config, new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .connectionTimeout(Duration.ofSeconds(10))
                .responseTimeout(Duration.ofSeconds(60))
                .build());
    }

    @AfterAll
    static void stop() throws IOException {
        if (docker != null) {
            docker.close();
        }
        if (node != null) {
            node.close();
        }
    }

    static ServiceSpec spec(String name, int replicas) {
        return new ServiceSpec()
                .withName(name)
                .withLabels(Map.of("it", "docker-java"))
                .withTaskTemplate(new TaskSpec().withContainerSpec(new ContainerSpec()
                        .withImage("alpine:latest")
                        .withArgs(List.of("sleep", "3600"))))
                .withMode(new ServiceModeConfig().withReplicated(new ServiceReplicatedModeOptions().withReplicas(replicas)));
    }

    @Test
    @Order(1)
    void inspectSwarm() {
        Swarm swarm = docker.inspectSwarmCmd().exec();
        assertNotNull(swarm.getId());
        assertTrue(swarm.getVersion().getIndex() > 0, "version " + swarm.getVersion());
        assertEquals("default", swarm.getSpec().getName());
        assertTrue(swarm.getJoinTokens().getWorker().matches("SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}"), swarm.getJoinTokens().getWorker());
        assertTrue(swarm.getJoinTokens().getManager().matches("SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}"), swarm.getJoinTokens().getManager());
    }

    @Test
    @Order(2)
    void listNodes() {
        List<SwarmNode> nodes = docker.listSwarmNodesCmd().exec();
        assertEquals(1, nodes.size(), nodes.toString());
        SwarmNode n = nodes.get(0);
        assertEquals(node.nodeId(), n.getId());
        assertEquals(node.hostname(), n.getDescription().getHostname());
        assertEquals(SwarmNodeState.READY, n.getStatus().getState());
        assertEquals(node.advertiseAddr(), n.getStatus().getAddress());
        assertEquals(SwarmNodeRole.MANAGER, n.getSpec().getRole());
        assertTrue(n.getManagerStatus().isLeader());
        assertEquals(node.advertiseAddr() + ":2377", n.getManagerStatus().getAddr());
        assertEquals(List.of(node.nodeId()), docker.listSwarmNodesCmd().withRoleFilter(List.of("manager")).exec()
                .stream().map(SwarmNode::getId).collect(Collectors.toList()));
    }

    @Test
    @Order(3)
    void createServiceRunsItsTasks() {
        CreateServiceResponse created = docker.createServiceCmd(spec("jsvc", 2)).exec();
        serviceId = created.getId();
        assertTrue(serviceId.matches(Ids.ID), serviceId);

        Eventually.await("2 running tasks of jsvc", () -> {
            List<Task> tasks = docker.listTasksCmd().withServiceFilter(serviceId).exec();
            List<Task> running = tasks.stream().filter(t -> t.getStatus().getState() == TaskState.RUNNING)
                    .collect(Collectors.toList());
            assertEquals(2, running.size(), tasks.toString());
            assertEquals(List.of(1, 2), running.stream().map(Task::getSlot).sorted().collect(Collectors.toList()));
            for (Task t : running) {
                assertEquals(serviceId, t.getServiceId());
                assertEquals(node.nodeId(), t.getNodeId());
                assertEquals(TaskState.RUNNING, t.getDesiredState());
                assertNotNull(t.getStatus().getContainerStatus(), "container status of " + t.getId());
                assertTrue(node.engine().isRunning(t.getStatus().getContainerStatus().getContainerID()),
                        "task " + t.getId() + " names a running container");
            }
        });
        assertEquals(2, node.awaitRunning("jsvc", 2).size());
    }

    @Test
    @Order(4)
    void listServices() {
        List<Service> all = docker.listServicesCmd().exec();
        assertEquals(List.of(serviceId), all.stream().map(Service::getId).collect(Collectors.toList()));
        List<Service> byName = docker.listServicesCmd().withNameFilter(List.of("jsvc")).exec();
        assertEquals(1, byName.size());
        Service s = byName.get(0);
        assertEquals("jsvc", s.getSpec().getName());
        assertEquals(2, s.getSpec().getMode().getReplicated().getReplicas());
        assertEquals("alpine:latest", s.getSpec().getTaskTemplate().getContainerSpec().getImage());
        assertEquals(List.of("sleep", "3600"), s.getSpec().getTaskTemplate().getContainerSpec().getArgs());
        assertEquals("docker-java", s.getSpec().getLabels().get("it"));
        assertTrue(docker.listServicesCmd().withNameFilter(List.of("nosuch")).exec().isEmpty());
        assertEquals(serviceId, docker.inspectServiceCmd("jsvc").exec().getId());
        assertThrows(NotFoundException.class, () -> docker.inspectServiceCmd("nosuch").exec());
    }

    @Test
    @Order(5)
    void duplicateCreateIsAConflict() {
        assertThrows(ConflictException.class, () -> docker.createServiceCmd(spec("jsvc", 1)).exec());
        assertEquals(1, docker.listServicesCmd().exec().size());
    }

    @Test
    @Order(6)
    void updateServiceScales() {
        Service before = docker.inspectServiceCmd(serviceId).exec();
        long version = before.getVersion().getIndex();
        docker.updateServiceCmd(serviceId, spec("jsvc", 4)).withVersion(version).exec();

        Service after = docker.inspectServiceCmd(serviceId).exec();
        assertEquals(4, after.getSpec().getMode().getReplicated().getReplicas());
        assertTrue(after.getVersion().getIndex() > version, "version grows: " + version + " -> " + after.getVersion());
        Eventually.await("4 running tasks of jsvc", () -> {
            List<Task> running = docker.listTasksCmd().withServiceFilter(serviceId).exec().stream()
                    .filter(t -> t.getStatus().getState() == TaskState.RUNNING).collect(Collectors.toList());
            assertEquals(List.of(1, 2, 3, 4), running.stream().map(Task::getSlot).sorted().collect(Collectors.toList()));
        });
        assertEquals(List.of(1, 2, 3, 4), TestNode.slots(node.awaitRunning("jsvc", 4)));
        // the old version is stale now
        assertThrows(RuntimeException.class,
                () -> docker.updateServiceCmd(serviceId, spec("jsvc", 1)).withVersion(version).exec());
        assertEquals(4, docker.inspectServiceCmd(serviceId).exec().getSpec().getMode().getReplicated().getReplicas());
    }

    @Test
    @Order(7)
    void removeService() {
        docker.removeServiceCmd(serviceId).exec();
        assertTrue(docker.listServicesCmd().exec().isEmpty());
        assertThrows(NotFoundException.class, () -> docker.removeServiceCmd(serviceId).exec());
        Eventually.await("no container of jsvc left", () -> assertTrue(node.allContainers("jsvc").isEmpty(),
                Engine.describe(node.allContainers("jsvc"))));
        // as in Docker, a task filter naming a service that does not exist is a 404 (moby GetTasks resolves it)
        assertThrows(NotFoundException.class, () -> docker.listTasksCmd().withServiceFilter(serviceId).exec());
        Eventually.await("no task of jsvc left", () -> assertEquals(List.of(), docker.listTasksCmd().exec().stream()
                .filter(t -> serviceId.equals(t.getServiceId())).map(Task::getId).collect(Collectors.toList())));
    }
}
