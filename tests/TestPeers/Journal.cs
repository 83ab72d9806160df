namespace McpAuth.TestPeers;

/// <summary>A shared, ordered record of which fake peer was called, to prove stage order and short-circuits.</summary>
public sealed class Journal
{
    private readonly List<string> _entries = [];

    public IReadOnlyList<string> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToArray();
            }
        }
    }

    public void Add(string entry)
    {
        lock (_entries)
        {
            _entries.Add(entry);
        }
    }
}
