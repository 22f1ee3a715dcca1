// pubsub-fake serves Google's own Pub/Sub fake (pstest, from the Go client library) over gRPC
// on loopback, so @google-cloud/pubsub reaches it through PUBSUB_EMULATOR_HOST.
//
//	pubsub-fake -addr 127.0.0.1:8085             serve until SIGTERM
//	pubsub-fake -health 127.0.0.1:8085          one real round trip (create topic, publish); exit 0 if it worked
//
// For interop tests it is also an independent client (Google's generated gRPC stubs, not the
// Node library brokerkit uses):
//
//	pubsub-fake -addr A -publish projects/P/topics/T -data D -attrs '{"k":"v"}'   print the message id
//	pubsub-fake -addr A -pull projects/P/subscriptions/S                           print one message as JSON, acked
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8085", "address to serve gRPC on (loopback only)")
	minAck := flag.Duration("min-ack-deadline", time.Second, "shortest ack deadline the fake accepts (real Pub/Sub: 10s)")
	health := flag.String("health", "", "check the server at this address instead of serving")
	version := flag.Bool("version", false, "print the pstest module version")
	publish := flag.String("publish", "", "publish one message to this topic at -addr, as a client")
	data := flag.String("data", "", "data of the message -publish sends")
	attrs := flag.String("attrs", "{}", "attributes (JSON object) of the message -publish sends")
	pull := flag.String("pull", "", "pull and ack one message from this subscription at -addr, as a client")
	flag.Parse()

	switch {
	case *version:
		fmt.Println(pstestVersion())
	case *publish != "":
		if err := publishOne(*addr, *publish, *data, *attrs); err != nil {
			fmt.Fprintln(os.Stderr, "publish:", err)
			os.Exit(1)
		}
	case *pull != "":
		if err := pullOne(*addr, *pull); err != nil {
			fmt.Fprintln(os.Stderr, "pull:", err)
			os.Exit(1)
		}
	case *health != "":
		if err := checkHealth(*health); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		fmt.Println("ok")
	default:
		serve(*addr, *minAck)
	}
}

func serve(addr string, minAck time.Duration) {
	// The fake's default minimum is 10 s, as on real Pub/Sub; tests of redelivery after a
	// crash are faster with a shorter one, which the adapter reports in its capabilities.
	pstest.SetMinAckDeadline(minAck)
	server := pstest.NewServerWithAddress(addr)
	log.Printf("pstest %s serving on %s (min ack deadline %s)", pstestVersion(), server.Addr, minAck)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	log.Print("stopping")
	_ = server.Close()
}

func checkHealth(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	publisher := pb.NewPublisherClient(conn)
	topic := "projects/brokerkit-health/topics/health"
	if _, err := publisher.CreateTopic(ctx, &pb.Topic{Name: topic}); err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create topic: %w", err)
	}
	response, err := publisher.Publish(ctx, &pb.PublishRequest{Topic: topic, Messages: []*pb.PubsubMessage{{Data: []byte("ping")}}})
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if len(response.MessageIds) != 1 {
		return fmt.Errorf("publish returned %d ids", len(response.MessageIds))
	}
	return nil
}

func publishOne(addr, topic, data, attrsJSON string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	attrs := map[string]string{}
	if err := json.Unmarshal([]byte(attrsJSON), &attrs); err != nil {
		return fmt.Errorf("attributes: %w", err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	response, err := pb.NewPublisherClient(conn).Publish(ctx, &pb.PublishRequest{Topic: topic, Messages: []*pb.PubsubMessage{{Data: []byte(data), Attributes: attrs}}})
	if err != nil {
		return err
	}
	fmt.Println(response.MessageIds[0])
	return nil
}

func pullOne(addr, subscription string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	subscriber := pb.NewSubscriberClient(conn)
	for ctx.Err() == nil {
		response, err := subscriber.Pull(ctx, &pb.PullRequest{Subscription: subscription, MaxMessages: 1})
		if err != nil {
			return err
		}
		if len(response.ReceivedMessages) == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		received := response.ReceivedMessages[0]
		if _, err := subscriber.Acknowledge(ctx, &pb.AcknowledgeRequest{Subscription: subscription, AckIds: []string{received.AckId}}); err != nil {
			return err
		}
		out, _ := json.Marshal(map[string]any{
			"data":        string(received.Message.Data),
			"attributes":  received.Message.Attributes,
			"orderingKey": received.Message.OrderingKey,
		})
		fmt.Println(string(out))
		return nil
	}
	return ctx.Err()
}

func pstestVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "cloud.google.com/go/pubsub/v2" {
				return "cloud.google.com/go/pubsub/v2/pstest " + dep.Version
			}
		}
	}
	return "pstest (version unknown)"
}
