# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_rmq_global_optspecs
    string join \n url= host= port= user= password= password-file= vhost= connect-timeout= heartbeat= cacert= cert= key= insecure api-url= profile= json q/quiet v/verbose h/help V/version
end

function __fish_rmq_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_rmq_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_rmq_using_subcommand
    set -l cmd (__fish_rmq_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c rmq -n "__fish_rmq_needs_command" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_needs_command" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_needs_command" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_needs_command" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_needs_command" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_needs_command" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_needs_command" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_needs_command" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_needs_command" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_needs_command" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_needs_command" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_needs_command" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_needs_command" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_needs_command" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_needs_command" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_needs_command" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_needs_command" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_needs_command" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_needs_command" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "send" -d 'Publish messages'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "receive" -d 'Consume messages and print them'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "peek" -d 'Show messages in a queue without removing them'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "worker" -d 'Work on a queue\'s messages: the tutorial\'s worker, or a command per message'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "call" -d 'Send a request and print the reply (tutorial 6\'s RPC client)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "perf" -d 'Generate load: producers and consumers on their own connections, with rates and latency'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "move" -d 'Move messages from a queue to another queue or exchange, losing none'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "exchange-declare" -d 'Declare an exchange'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "queue-declare" -d 'Declare a queue'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "bind" -d 'Bind a queue to an exchange'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "unbind" -d 'Remove a binding between a queue and an exchange'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "queue-purge" -d 'Remove all ready messages from a queue'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "queue-delete" -d 'Delete a queue'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "exchange-delete" -d 'Delete an exchange'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-queues" -d 'List queues (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-exchanges" -d 'List exchanges (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-bindings" -d 'List bindings (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "overview" -d 'Show the cluster: versions, nodes and alarms, totals, rates'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-connections" -d 'List client connections (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-channels" -d 'List channels (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-consumers" -d 'List consumers (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-vhosts" -d 'List virtual hosts (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-users" -d 'List users (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-permissions" -d 'List permissions (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-policies" -d 'List policies (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "list-nodes" -d 'List the cluster\'s nodes (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "health-check" -d 'Ask the broker\'s health checks (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "close-connection" -d 'Close client connections'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "definitions-export" -d 'Export the broker\'s definitions (users, vhosts, permissions, policies, queues, exchanges, bindings) as JSON'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "definitions-import" -d 'Import definitions into the broker'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "vhost-declare" -d 'Create a virtual host'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "vhost-delete" -d 'Delete a virtual host with all its queues, exchanges, bindings and messages'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "user-declare" -d 'Create or update a user'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "user-delete" -d 'Delete a user'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "permissions-set" -d 'Set a user\'s permissions in a vhost'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "permissions-clear" -d 'Remove a user\'s permissions in a vhost'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "policy-declare" -d 'Create or replace a policy'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "policy-delete" -d 'Delete a policy'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "profiles" -d 'List the connection profiles of the config file'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "top" -d 'Watch the queues of a vhost live (management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "tree" -d 'Show the topology of a vhost: exchanges, bindings, queues (management HTTP API)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c rmq -n "__fish_rmq_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -s Q -l queue -d 'Queue to publish to (declared unless it exists or --no-declare is given)' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -s e -l exchange -d 'Exchange to publish to, instead of a queue' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -s k -l routing-key -d 'Routing key for --exchange' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -s t -l type -d 'Exchange type: declare the exchange with this type first if it does not exist' -r -f -a "fanout\t'Every bound queue gets a copy'
direct\t'Routing key equals binding key'
topic\t'Routing key matches a pattern with `*` and `#`'
headers\t'Headers match binding arguments'"
complete -c rmq -n "__fish_rmq_using_subcommand send" -s H -l header -d 'Add a header (repeatable); integers and true/false are sent typed' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l content-type -d 'Set the content-type property' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l content-encoding -d 'Set the content-encoding property' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l correlation-id -d 'Set the correlation-id property' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l reply-to -d 'Set the reply-to property' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l message-id -d 'Set the message-id property' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l expiration -d 'Set a per-message TTL in milliseconds' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l priority -d 'Set the priority property (0-255)' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l repeat -d 'Send each message N times' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l timeout -d 'Give up after SECS without progress (broker blocked, no confirms): exit 8' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand send" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand send" -l durable -d 'Declare the queue (or the exchange, with -t) durable when it does not exist'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l no-declare -d 'Do not declare the queue; it must exist'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l lines -d 'Send every line of stdin as one message (the newline stripped)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l ndjson -d 'Read stdin as JSON envelopes, one per line, as written by `rmq receive --json`; without -Q/-e each goes to the exchange and routing key it names'
complete -c rmq -n "__fish_rmq_using_subcommand send" -s p -l persistent -d 'Mark messages persistent (delivery mode 2)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l auto-message-id -d 'Give every message without a message-id the id RUN-N: RUN is unique to this run, N is the message\'s position in it (1, 2, ...). A message re-sent after a reconnect keeps its id, so consumers can drop the duplicates (RMQ_MESSAGE_ID in `rmq worker`)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l no-confirm -d 'Do not wait for publisher confirms (faster, no delivery guarantee)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l strict -d 'Exit 7 when any message is returned as unroutable'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l no-reconnect -d 'On connection loss exit 3 (stderr says how many were confirmed) instead of reconnecting'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand send" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s Q -l queue -d 'Queue to consume from (declared unless it exists or --no-declare is given)' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s e -l exchange -d 'Consume from a private, server-named queue bound to this exchange' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s t -l type -d 'Exchange type: declare the exchange with this type first if it does not exist' -r -f -a "fanout\t'Every bound queue gets a copy'
direct\t'Routing key equals binding key'
topic\t'Routing key matches a pattern with `*` and `#`'
headers\t'Headers match binding arguments'"
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s b -l binding-key -d 'Binding key for the private queue (repeatable; none: the empty key)' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s n -l count -d 'Exit after N messages' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l timeout -d 'Exit after SECS without a message (exit 8 if --count was not reached)' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l prefetch -d 'How many unacked messages the broker may send ahead (basic.qos) [default: 256]' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l offset -d 'Where to start reading a stream: first, last, next (the default), an offset N, a time (2026-12-01T10:00:00Z) or an age (1h, 30m, 2D: that long ago); streams only. The summary names the last offset read, to resume from the next one (also after a lost connection, exit 3: `receive` does not reconnect)' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l filter -d 'With -e: print only the messages for which this jq expression, run on the JSON envelope, yields true (the others are copies in the private queue: dropped)' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l durable -d 'Declare the queue (or the exchange, with -t) durable when it does not exist'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l no-declare -d 'Do not declare the queue; it must exist'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l no-ack -d 'Consume in auto-ack mode: the broker forgets each message as it sends it'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand receive" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand peek" -s Q -l queue -d 'Queue to look into (it must exist)' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -s n -l count -d 'How many messages to show at most (with --filter: matching messages)' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l offset -d 'Where to start reading a stream: first, last, next, an offset N, a time (2026-12-01T10:00:00Z) or an age (1h, 30m, 2D: that long ago); streams only' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l filter -d 'Show only the messages for which the jq expression EXPR is true' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand peek" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand peek" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand peek" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand peek" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand peek" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -s Q -l queue -d 'Queue to consume from (declared unless it exists or --no-declare is given)' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l prefetch -d 'How many unacked messages the broker may send ahead (basic.qos) [default: the --concurrency, so 1]' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l concurrency -d 'Run up to N commands (or tutorial tasks) at once' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l dot-delay -d 'Tutorial mode: seconds to sleep for each \'.\' in the body' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l exec -d 'Run this shell command (sh -c) once per message' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l on-failure -d 'What to do with a message whose command failed (exit status other than 0 and 75)' -r -f -a "reject\t'Nack without requeue: dead-lettered if the queue has a dead-letter exchange, else dropped'
requeue\t'Nack with requeue: it will be delivered again'"
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l durable -d 'Declare the queue durable when it does not exist'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l no-declare -d 'Do not declare the queue; it must exist'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l no-reconnect -d 'On connection loss exit 3 instead of reconnecting'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand worker" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand call" -s Q -l queue -d 'Queue of the RPC server (declared unless it exists or --no-declare is given)' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -s e -l exchange -d 'Exchange to publish the request to, instead of a queue (it must exist)' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -s k -l routing-key -d 'Routing key for --exchange' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -s H -l header -d 'Add a header to the request (repeatable); integers and true/false are sent typed' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l timeout -d 'Seconds to wait for the reply (then exit 8)' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand call" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand call" -l durable -d 'Declare the queue durable when it does not exist'
complete -c rmq -n "__fish_rmq_using_subcommand call" -l no-declare -d 'Do not declare the queue; it must exist'
complete -c rmq -n "__fish_rmq_using_subcommand call" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand call" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand call" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand call" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand call" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand call" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s Q -l queue -d 'Queue to publish to and consume from (declared when missing)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s x -l producers -d 'Producer threads (each with its own connection)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s y -l consumers -d 'Consumer threads (each with its own connection)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s s -l size -d 'Body size in bytes (at least 8: the first 8 carry the send time)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s r -l rate -d 'Messages per second per producer (default: as fast as possible)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s c -l confirm -d 'Use publisher confirms with at most WINDOW unconfirmed messages per producer' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l prefetch -d 'Unacked messages the broker may send each consumer ahead (basic.qos)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s z -l time -d 'Run for SECS seconds, then stop publishing and let consumers catch up' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s C -l pmessages -d 'Each producer sends N messages, then the run ends once all have arrived' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s p -l persistent -d 'Persistent messages (delivery mode 2); a missing queue is declared durable'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l no-ack -d 'Consumers use auto-ack (no acknowledgements)'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand perf" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand move" -l from -d 'Queue to take the messages from' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l to -d 'Queue to move them to (through the default exchange)' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -s e -l exchange -d 'Exchange to publish them to (with -k, or each message\'s own routing key)' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -s k -l routing-key -d 'Routing key for -e (default: the message\'s own)' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -s n -l count -d 'Move at most N messages' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l filter -d 'Move only the messages for which this jq expression, run on the message\'s JSON envelope (as printed by `rmq receive --json`), yields true; the others stay in the source, in their order' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l prefetch -d 'Messages in flight at most (the source\'s prefetch; memory is about this many messages: lower it for large ones) [default: 1024]' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand move" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand move" -l to-origin -d 'Dead-letter replay: each message goes to the exchange and routing key of its first x-death entry; messages never dead-lettered stay and are counted skipped'
complete -c rmq -n "__fish_rmq_using_subcommand move" -l no-reconnect -d 'On connection loss exit 3 instead of reconnecting (every message is then in the source or at the destination; the summary counts the possible duplicates)'
complete -c rmq -n "__fish_rmq_using_subcommand move" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand move" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand move" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand move" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand move" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand move" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -s t -l type -d 'Exchange type' -r -f -a "fanout\t'Every bound queue gets a copy'
direct\t'Routing key equals binding key'
topic\t'Routing key matches a pattern with `*` and `#`'
headers\t'Headers match binding arguments'"
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l arg -d 'Exchange argument (repeatable), e.g. alternate-exchange=X; integers and true/false are sent typed' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l durable -d 'Survive a broker restart'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l auto-delete -d 'Delete the exchange when its last binding is removed'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l internal -d 'Only other exchanges may publish to it (through exchange-to-exchange bindings)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-declare" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l max-age -d 'Stream retention: drop segments older than AGE, a number and one unit of Y M D h m s (7D, 12h): x-max-age' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l max-length-bytes -d 'Stream retention: keep at most N bytes: x-max-length-bytes' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l max-segment-size-bytes -d 'Size of a stream\'s segment files: x-stream-max-segment-size-bytes' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l message-ttl -d 'Discard (or dead-letter) messages older than MS milliseconds: x-message-ttl' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l max-length -d 'Keep at most N messages; the oldest are dropped (or dead-lettered): x-max-length' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l dead-letter-exchange -d 'Send rejected, expired and dropped messages to exchange X: x-dead-letter-exchange' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l arg -d 'Queue argument (repeatable), e.g. x-dead-letter-routing-key=dlq; integers and true/false are sent typed' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l durable -d 'Survive a broker restart (implied by --quorum)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l auto-delete -d 'Delete the queue when its last consumer goes away'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l quorum -d 'A quorum queue (replicated, durable): x-queue-type=quorum'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l stream -d 'A stream (an append-only log read from an offset, durable): x-queue-type=stream'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand queue-declare" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s Q -l queue -d 'Queue: the binding\'s destination' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s e -l exchange -d 'Exchange: the binding\'s source' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s k -l routing-key -d 'Binding (routing) key; repeat for several bindings' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l header -d 'Header to match on a headers exchange (repeatable)' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l match -d 'Whether all or any of the --header values must match (x-match)' -r -f -a "all\t'Every header must match'
any\t'At least one header must match'"
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand bind" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand bind" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s Q -l queue -d 'Queue: the binding\'s destination' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s e -l exchange -d 'Exchange: the binding\'s source' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s k -l routing-key -d 'Binding (routing) key; repeat for several bindings' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l header -d 'Header to match on a headers exchange (repeatable)' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l match -d 'Whether all or any of the --header values must match (x-match)' -r -f -a "all\t'Every header must match'
any\t'At least one header must match'"
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand unbind" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l pattern -d 'Act on every queue of the vhost whose name matches this regular expression (lists them first, then asks once)' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l dry-run -d 'With --pattern: only list the queues that match; change nothing'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -s y -l yes -d 'Do not ask for confirmation'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand queue-purge" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l pattern -d 'Act on every queue of the vhost whose name matches this regular expression (lists them first, then asks once)' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l dry-run -d 'With --pattern: only list the queues that match; change nothing'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l if-unused -d 'Only if it has no consumers (exit 6 otherwise)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l if-empty -d 'Only if it holds no messages (exit 6 otherwise)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand queue-delete" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l if-unused -d 'Only if nothing is bound to it (exit 6 otherwise)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand exchange-delete" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l filter -d 'Only queues whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l all-vhosts -d 'List the queues of every vhost (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-queues" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l filter -d 'Only exchanges whose name matches this regular expression (unanchored)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l all-vhosts -d 'List the exchanges of every vhost (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-exchanges" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -s Q -l queue -d 'Only bindings to this queue (exit 5 if it does not exist)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -s e -l exchange -d 'Only bindings from this exchange (exit 5 if it does not exist)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l all-vhosts -d 'List the bindings of every vhost (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-bindings" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand overview" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand overview" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand overview" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand overview" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand overview" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l all-vhosts -d 'List every vhost\'s (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-connections" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l all-vhosts -d 'List every vhost\'s (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-channels" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l all-vhosts -d 'List every vhost\'s (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-consumers" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-vhosts" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-users" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l all-vhosts -d 'List every vhost\'s (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-permissions" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l all-vhosts -d 'List every vhost\'s (ignores --vhost); adds a vhost column'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-policies" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l filter -d 'Only rows whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand list-nodes" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand health-check" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -s u -l for-user -d 'Close every connection of this user (-u: --user is the connection\'s own user)' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l reason -d 'Reason the clients are told' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l all-vhosts -d 'With -u: the user\'s connections in every vhost'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -s y -l yes -d 'Do not ask for confirmation'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand close-connection" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -s o -l output -d 'Write to this file (mode 0600, also when it exists) instead of stdout' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-export" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l dry-run -d 'Only list what would be created or changed'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand definitions-import" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-declare" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand vhost-delete" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l tags -d 'Tags (comma-separated), e.g. management or administrator' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l password-stdin -d 'Read the new user\'s password from the first line of stdin'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand user-declare" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand user-delete" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -s u -l for-user -d 'The user (-u: --user is the connection\'s own user)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l configure -d 'Resources the user may declare and delete (regular expression)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l write -d 'Resources the user may publish to (regular expression)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l read -d 'Resources the user may consume from or bind (regular expression)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-set" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -s u -l for-user -d 'The user (-u: --user is the connection\'s own user)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand permissions-clear" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l pattern -d 'Names of the queues/exchanges it applies to (regular expression)' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l apply-to -d 'What it applies to' -r -f -a "queues\t'Queues only'
exchanges\t'Exchanges only'
all\t'Queues and exchanges'"
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l priority -d 'Priority among matching policies (higher wins)' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l definition -d 'A key=value of the definition (repeatable), e.g. message-ttl=60000' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand policy-declare" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand policy-delete" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l columns -d 'Show only these columns, in this order (comma-separated; also limits --json\'s fields). An unknown name is exit 2, listing the valid ones' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand profiles" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand top" -l filter -d 'Only queues whose name matches this regular expression (unanchored; use ^...$)' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l sort -d 'Order of the rows (on the screen, the s key changes it)' -r -f -a "messages\t'Most messages first'
rate\t'Busiest first: publish + deliver rate'
name\t'By name'"
complete -c rmq -n "__fish_rmq_using_subcommand top" -l interval -d 'Seconds between two polls of the API' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand top" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand top" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand top" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand top" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand top" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand top" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l dot -d 'Print a Graphviz digraph instead of the tree (rmq tree --dot | dot -Tsvg > topo.svg)'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l all -d 'Also show the default exchange with its implicit bindings, and the amq.* exchanges nothing is bound to'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand tree" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand completions" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand completions" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand completions" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand completions" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand man" -l url -d 'Broker URL (amqp:// or amqps://); repeat it, or comma-separate RMQ_URL, to list several nodes of a cluster [default: amqp://guest:guest@localhost:5672/%2f; also read from AMQP_URL]' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l host -d 'Host name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l port -d 'Port, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l user -d 'User name, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l password -d 'Password, overriding the URL\'s (prefer RMQ_PASSWORD or --password-file: argv is visible in `ps`)' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l password-file -d 'Read the password from this file (first line)' -r -F
complete -c rmq -n "__fish_rmq_using_subcommand man" -l vhost -d 'Virtual host, overriding the one in the URL' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l connect-timeout -d 'Seconds allowed for the TCP connect plus the AMQP handshake' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l heartbeat -d 'AMQP heartbeat interval in seconds (overrides the URL\'s ?heartbeat=; 0 turns it off): a broker that goes silent is noticed within about twice this' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l cacert -d 'CA certificate bundle (PEM) to trust for amqps:// and https://' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l cert -d 'Client certificate (PEM) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l key -d 'Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for amqps://' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l api-url -d 'Management HTTP API URL [default: http://<host>:15672]' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l profile -d 'Connection profile: a [profiles.NAME] table of the config file ($RMQ_CONFIG, else ~/.config/rmq/config.toml); flags and environment variables override its keys [default: the file\'s default_profile]' -r
complete -c rmq -n "__fish_rmq_using_subcommand man" -l insecure -d 'Skip TLS certificate verification (prints a warning)'
complete -c rmq -n "__fish_rmq_using_subcommand man" -l json -d 'Machine-readable output (see each command)'
complete -c rmq -n "__fish_rmq_using_subcommand man" -s q -l quiet -d 'Print less on stderr (no summaries or progress)'
complete -c rmq -n "__fish_rmq_using_subcommand man" -s v -l verbose -d 'Print more on stderr (-v: what is used; -vv: debug)'
complete -c rmq -n "__fish_rmq_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rmq -n "__fish_rmq_using_subcommand man" -s V -l version -d 'Print version'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "send" -d 'Publish messages'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "receive" -d 'Consume messages and print them'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "peek" -d 'Show messages in a queue without removing them'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "worker" -d 'Work on a queue\'s messages: the tutorial\'s worker, or a command per message'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "call" -d 'Send a request and print the reply (tutorial 6\'s RPC client)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "perf" -d 'Generate load: producers and consumers on their own connections, with rates and latency'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "move" -d 'Move messages from a queue to another queue or exchange, losing none'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "exchange-declare" -d 'Declare an exchange'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "queue-declare" -d 'Declare a queue'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "bind" -d 'Bind a queue to an exchange'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "unbind" -d 'Remove a binding between a queue and an exchange'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "queue-purge" -d 'Remove all ready messages from a queue'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "queue-delete" -d 'Delete a queue'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "exchange-delete" -d 'Delete an exchange'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-queues" -d 'List queues (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-exchanges" -d 'List exchanges (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-bindings" -d 'List bindings (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "overview" -d 'Show the cluster: versions, nodes and alarms, totals, rates'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-connections" -d 'List client connections (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-channels" -d 'List channels (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-consumers" -d 'List consumers (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-vhosts" -d 'List virtual hosts (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-users" -d 'List users (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-permissions" -d 'List permissions (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-policies" -d 'List policies (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "list-nodes" -d 'List the cluster\'s nodes (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "health-check" -d 'Ask the broker\'s health checks (through the management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "close-connection" -d 'Close client connections'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "definitions-export" -d 'Export the broker\'s definitions (users, vhosts, permissions, policies, queues, exchanges, bindings) as JSON'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "definitions-import" -d 'Import definitions into the broker'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "vhost-declare" -d 'Create a virtual host'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "vhost-delete" -d 'Delete a virtual host with all its queues, exchanges, bindings and messages'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "user-declare" -d 'Create or update a user'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "user-delete" -d 'Delete a user'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "permissions-set" -d 'Set a user\'s permissions in a vhost'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "permissions-clear" -d 'Remove a user\'s permissions in a vhost'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "policy-declare" -d 'Create or replace a policy'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "policy-delete" -d 'Delete a policy'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "profiles" -d 'List the connection profiles of the config file'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "top" -d 'Watch the queues of a vhost live (management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "tree" -d 'Show the topology of a vhost: exchanges, bindings, queues (management HTTP API)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c rmq -n "__fish_rmq_using_subcommand help; and not __fish_seen_subcommand_from send receive peek worker call perf move exchange-declare queue-declare bind unbind queue-purge queue-delete exchange-delete list-queues list-exchanges list-bindings overview list-connections list-channels list-consumers list-vhosts list-users list-permissions list-policies list-nodes health-check close-connection definitions-export definitions-import vhost-declare vhost-delete user-declare user-delete permissions-set permissions-clear policy-declare policy-delete profiles top tree completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
