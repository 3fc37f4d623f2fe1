using System.Net;
using System.Net.Sockets;
using System.Text;

namespace XraySynth.Tests.Support;

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 (a free port) for download tests: one request per connection, answered by
/// <see cref="Handler"/>, which writes the raw response. Every request is recorded (path, Range start). Never the
/// internet.
/// </summary>
internal sealed class LocalHttpServer : IDisposable
{
    /// <summary>A received request: its order (0-based), path and the start of its "Range: bytes=N-" header.</summary>
    public sealed record Request(int Index, string Path, long? RangeFrom);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Request> _requests = [];
    private readonly Task _loop;

    public LocalHttpServer(Action<Request, Stream> handler)
    {
        Handler = handler;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = Task.Run(AcceptLoop);
    }

    /// <summary>Answers a request by writing to the connection's stream (closed afterwards).</summary>
    public Action<Request, Stream> Handler { get; set; }

    public int Port { get; }

    /// <summary>http://127.0.0.1:PORT (no trailing slash).</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    /// <summary>Cancelled when the server stops: handlers that stall wait on it.</summary>
    public CancellationToken Stopping => _stop.Token;

    public IReadOnlyList<Request> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Serve(client));
        }
    }

    private void Serve(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = ReadHead(stream);
                var lines = head.Split("\r\n");
                var path = lines[0].Split(' ')[1];
                long? from = null;
                foreach (var line in lines.Skip(1))
                {
                    if (line.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))
                    {
                        var value = line["Range:".Length..].Trim();          // bytes=N-
                        from = long.Parse(value["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
                Request request;
                lock (_requests)
                {
                    request = new Request(_requests.Count, path, from);
                    _requests.Add(request);
                }
                Handler(request, stream);
                stream.Flush();
            }
            catch (IOException) { }
            catch (ObjectDisposedException) { }
        }
    }

    private static string ReadHead(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (stream.Read(one, 0, 1) == 1)
        {
            bytes.Add(one[0]);
            if (bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n') break;
        }
        return Encoding.ASCII.GetString([.. bytes]);
    }

    /// <summary>Writes a status line and headers.</summary>
    public static void Head(Stream s, int status, string reason, params string[] headers)
    {
        var text = $"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n" + string.Concat(headers.Select(h => h + "\r\n")) + "\r\n";
        s.Write(Encoding.ASCII.GetBytes(text));
    }

    /// <summary>Serves <paramref name="content"/>, honouring a Range request (206) unless <paramref name="honourRange"/>
    /// is false; <paramref name="cutAfter"/> closes the connection after that many body bytes (the headers still
    /// announce the whole length).</summary>
    public static void File(Request r, Stream s, byte[] content, int? cutAfter = null, bool honourRange = true)
    {
        long from = honourRange && r.RangeFrom is { } f ? f : 0;
        if (from >= content.Length && from > 0)
        {
            Head(s, 416, "Range Not Satisfiable", $"Content-Range: bytes */{content.Length}", "Content-Length: 0");
            return;
        }
        var length = content.Length - from;
        if (from > 0)
            Head(s, 206, "Partial Content", $"Content-Range: bytes {from}-{content.Length - 1}/{content.Length}", $"Content-Length: {length}");
        else
            Head(s, 200, "OK", $"Content-Length: {length}", "Accept-Ranges: bytes");
        var send = cutAfter is { } cut ? Math.Min(cut, (int)length) : (int)length;
        s.Write(content, (int)from, send);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
