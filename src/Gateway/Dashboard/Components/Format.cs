using System.Globalization;
using OptimizationRuns.Grains.Runs;

namespace OptimizationRuns.Gateway.Dashboard.Components;

/// <summary>How the pages write numbers, times and missing values: the same everywhere, never blank or "null".</summary>
public static class Format
{
    public const string None = "—";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Score(decimal? score) => score is { } s ? s.ToString("0.000", Invariant) : None;

    public static string Score(double? score) => score is { } s ? s.ToString("0.000", Invariant) : None;

    public static string Delta(decimal? delta) => delta is { } d ? d.ToString("+0.000;−0.000;±0.000", Invariant) : None;

    public static string Delta(double? delta) => delta is { } d ? d.ToString("+0.000;−0.000;±0.000", Invariant) : None;

    public static string Percent(decimal? pct) => pct is { } p ? p.ToString("+0.0;−0.0;0.0", Invariant) + " %" : None;

    public static string Count(long n) => n.ToString("N0", Invariant);

    public static string Count(long? n) => n is { } v ? Count(v) : None;

    public static string Cost(decimal usd) => usd == 0 ? "$0" : usd < 0.01m ? "$" + usd.ToString("0.0000", Invariant) : "$" + usd.ToString("0.00", Invariant);

    public static string Cost(double? usd) => usd is { } v ? Cost((decimal)v) : None;

    public static string Latency(double? ms) => ms is { } v ? v >= 1000 ? (v / 1000).ToString("0.0", Invariant) + " s" : v.ToString("0", Invariant) + " ms" : None;

    public static string P(double p) => p < 0.001 ? "< 0.001" : p.ToString("0.000", Invariant);

    public static string Duration(long? ms) => ms is { } v ? Duration(TimeSpan.FromMilliseconds(v)) : None;

    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{t.TotalSeconds:0} s"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s"
        : $"{(int)t.TotalHours} h {t.Minutes:00} min";

    /// <summary>A time as UTC, to the second (the element's datetime attribute carries the exact value).</summary>
    public static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Invariant) + " UTC" : None;

    public static string Iso(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("O", Invariant) : "";

    public static string Name<T>(T value) where T : struct, Enum => value.ToName();

    public static string Text(string? text) => string.IsNullOrWhiteSpace(text) ? None : text;

    public static string Truncate(string? text, int length) =>
        text is null ? None : text.Length <= length ? text : text[..(length - 1)] + "…";
}
