-- wilson_interval_bound against published values: Newcombe (1998), "Two-sided confidence
-- intervals for the single proportion", Statistics in Medicine 17, table I, method 3
-- (Wilson score, z = 1.96, 4 decimals); exact 0 / 1 bounds at 0% and 100%; null for 0
-- trials. Returns one row per failing case.
with

cases as (

    select 81 as successes, 263 as trials, 0.2553 as expected_low, 0.3662 as expected_high
    union all
    select 15, 148, 0.0624, 0.1605
    union all
    select 0, 20, 0.0, 0.1611
    union all
    select 1, 29, 0.0061, 0.1718
    union all
    select 20, 20, 0.8389, 1.0
    union all
    select 0, 0, null, null

),

bounds as (

    select
        successes,
        trials,
        expected_low,
        expected_high,
        {{ wilson_interval_bound('successes', 'trials', 1.96, 'low') }} as ci_low,
        {{ wilson_interval_bound('successes', 'trials', 1.96, 'high') }} as ci_high
    from cases

),

failures as (

    select
        successes,
        trials,
        ci_low,
        ci_high
    from bounds
    where
        not (
            (trials = 0 and ci_low is null and ci_high is null)
            or (
                trials > 0
                and abs(ci_low - expected_low) < 0.00005
                and abs(ci_high - expected_high) < 0.00005
                and (successes > 0 or ci_low = 0)
                and (successes < trials or ci_high = 1)
            )
        )

)

select * from failures
