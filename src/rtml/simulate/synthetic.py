"""``SyntheticFraudSimulator``: card transactions with known fraud, generated from a seed.

Written from the public description of the Fraud Detection Handbook's simulator: customers and
terminals placed on a 100 by 100 grid, each customer paying at terminals within ``radius`` of
home, a Poisson number of transactions a day around midday, amounts drawn around the customer's
own mean. Fraud comes from three scenarios:

1. any amount above 220;
2. compromised terminals: each day ``terminals_compromised_per_day`` terminals are taken over,
   and every transaction there for the next 28 days is fraudulent;
3. compromised cards: each day ``customers_compromised_per_day`` customers' cards leak, and a
   third of their transactions over the next 14 days are fraudulent, with five times the usual
   amount;

plus, from ``drift_day`` on, a new pattern a model trained before cannot know:

4. night-time purchases of digital goods through proxies, at ordinary amounts.

The columns are those of TurboML's fraud data set, so the same app runs on either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd

from rtml.backends.base import Backend
from rtml.simulate.base import SimulationResult, Simulator
from rtml.simulate.replay import ReplaySimulator
from rtml.whole_numbers import is_whole

__all__ = ["SyntheticFraudSimulator"]

DAY = 86400


def _check_whole(name: str, value: object, least: int) -> None:
    """``value`` is a whole number (not a bool) of at least ``least``, or a ValueError says so."""
    if not is_whole(value, least):
        raise ValueError(
            f"SyntheticFraudSimulator: {name} must be a whole number >= {least}, got {value!r}"
        )


class SyntheticFraudSimulator(Simulator):
    """Generates transactions and their labels; :meth:`run` replays them into a backend.

    >>> sim = SyntheticFraudSimulator(n_customers=200, n_terminals=400, days=10, seed=1)
    >>> events, labels = sim.generate()
    >>> list(events.columns)
    ['transactionID', 'accountID', 'terminalID', 'transactionAmount', 'localHour', 'timestamp', 'isProxyIP', 'digitalItemCount', 'physicalItemCount']
    >>> list(labels.columns)
    ['transactionID', 'is_fraud', 'scenario']
    >>> events2, _ = SyntheticFraudSimulator(n_customers=200, n_terminals=400, days=10,
    ...                                      seed=1).generate()
    >>> events.equals(events2)  # reproducible by seed
    True
    """

    def __init__(
        self,
        n_customers: int = 5000,
        n_terminals: int = 10000,
        days: int = 60,
        start: str = "2024-01-01",
        radius: float = 5.0,
        terminals_compromised_per_day: int = 2,
        customers_compromised_per_day: int = 3,
        drift_day: int | None = None,
        drift_share: float = 0.004,
        seed: int = 0,
    ) -> None:
        for name, value, least in (
            ("n_customers", n_customers, 1),
            ("n_terminals", n_terminals, 1),
            ("days", days, 1),
            ("terminals_compromised_per_day", terminals_compromised_per_day, 0),
            ("customers_compromised_per_day", customers_compromised_per_day, 0),
            ("seed", seed, 0),
        ):
            _check_whole(name, value, least)
        for name, count, population, of in (
            (
                "terminals_compromised_per_day",
                terminals_compromised_per_day,
                n_terminals,
                "n_terminals",
            ),
            (
                "customers_compromised_per_day",
                customers_compromised_per_day,
                n_customers,
                "n_customers",
            ),
        ):
            if count > population:  # each day's are drawn without replacement
                raise ValueError(
                    f"SyntheticFraudSimulator: {name} ({count}) must not exceed {of} ({population})"
                )
        if not radius > 0:
            raise ValueError(f"SyntheticFraudSimulator: radius must be > 0, got {radius!r}")
        if not 0 <= drift_share <= 1:
            raise ValueError(
                f"SyntheticFraudSimulator: drift_share must be between 0 and 1, got {drift_share!r}"
            )
        if drift_day is not None:
            _check_whole("drift_day", drift_day, 0)
            if drift_day >= days:
                # No drift would be generated: refused rather than a quietly drift-free stream.
                raise ValueError(
                    f"SyntheticFraudSimulator: drift_day {drift_day} is not one of the {days} "
                    f"days simulated (0 to {days - 1}): lower it, or give None for no drift"
                )
        self.n_customers = n_customers
        self.n_terminals = n_terminals
        self.days = days
        self.start = int(pd.Timestamp(start, tz="UTC").timestamp())
        self.radius = radius
        self.terminals_compromised_per_day = terminals_compromised_per_day
        self.customers_compromised_per_day = customers_compromised_per_day
        self.drift_day = drift_day
        self.drift_share = drift_share
        self.seed = seed
        self._cache: tuple[pd.DataFrame, pd.DataFrame] | None = None

    # ---- generation -----------------------------------------------------------------------
    def _reachable(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per customer, the terminals within ``radius`` (flat array + offsets)."""
        home = rng.uniform(0, 100, (self.n_customers, 2))
        terminals = rng.uniform(0, 100, (self.n_terminals, 2))
        flat: list[np.ndarray] = []
        for lo in range(0, self.n_customers, 500):  # chunks: a full distance matrix is large
            d = np.linalg.norm(home[lo : lo + 500, None, :] - terminals[None, :, :], axis=2)
            flat.extend(np.flatnonzero(row <= self.radius) for row in d)
        counts = np.array([len(f) for f in flat])
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        return np.concatenate(flat) if flat else np.zeros(0, int), offsets, counts

    def generate(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The transactions (in time order) and their labels."""
        if self._cache is not None:
            return self._cache
        rng = np.random.default_rng(self.seed)
        mean = rng.uniform(5, 100, self.n_customers)
        std = mean / 2
        rate = rng.uniform(0, 4, self.n_customers)
        flat, offsets, counts = self._reachable(rng)
        parts = []
        for day in range(self.days):
            n = rng.poisson(rate)
            customer = np.repeat(np.arange(self.n_customers), n)
            customer = customer[counts[customer] > 0]
            seconds = np.clip(rng.normal(DAY / 2, 20000, len(customer)), 0, DAY - 1).astype(int)
            amount = rng.normal(mean[customer], std[customer])
            negative = amount < 0
            amount[negative] = rng.uniform(0, 2 * mean[customer][negative])
            pick = (rng.random(len(customer)) * counts[customer]).astype(int)
            parts.append(
                pd.DataFrame(
                    {
                        "accountID": customer,
                        "terminalID": flat[offsets[customer] + pick],
                        "transactionAmount": np.round(amount, 2),
                        "day": day,
                        "timestamp": self.start + day * DAY + seconds,
                    }
                )
            )
        tx = pd.concat(parts, ignore_index=True).sort_values("timestamp", kind="stable")
        tx = tx.reset_index(drop=True)
        size = len(tx)
        tx["isProxyIP"] = (rng.random(size) < 0.03).astype("int64")
        tx["digitalItemCount"] = rng.poisson(0.5, size)
        tx["physicalItemCount"] = rng.poisson(1.5, size)
        scenario = np.zeros(size, dtype="int64")
        scenario[tx["transactionAmount"].to_numpy() > 220] = 1
        tx_day = tx["day"].to_numpy()
        for d in range(self.days):
            for t in rng.choice(
                self.n_terminals, self.terminals_compromised_per_day, replace=False
            ):
                hit = (tx["terminalID"].to_numpy() == t) & (tx_day >= d) & (tx_day < d + 28)
                scenario[hit & (scenario == 0)] = 2
            for c in rng.choice(
                self.n_customers, self.customers_compromised_per_day, replace=False
            ):
                window = np.flatnonzero(
                    (tx["accountID"].to_numpy() == c) & (tx_day >= d) & (tx_day < d + 14)
                )
                chosen = window[rng.random(len(window)) < 1 / 3]
                chosen = chosen[scenario[chosen] == 0]
                tx.loc[chosen, "transactionAmount"] = np.round(
                    tx.loc[chosen, "transactionAmount"] * 5, 2
                )
                scenario[chosen] = 3
        if self.drift_day is not None:
            late = np.flatnonzero((tx_day >= self.drift_day) & (scenario == 0))
            chosen = late[rng.random(len(late)) < self.drift_share]
            # Night, through a proxy, digital goods, ordinary amounts.
            night = rng.integers(0, 5 * 3600, len(chosen))
            tx.loc[tx.index[chosen], "timestamp"] = self.start + tx_day[chosen] * DAY + night
            tx.loc[chosen, "isProxyIP"] = 1
            tx.loc[chosen, "digitalItemCount"] = rng.integers(3, 8, len(chosen))
            tx.loc[chosen, "physicalItemCount"] = 0
            scenario[chosen] = 4
        tx["scenario"] = scenario
        tx = tx.sort_values("timestamp", kind="stable").reset_index(drop=True)
        tx["transactionID"] = np.arange(len(tx), dtype="int64")
        tx["localHour"] = ((tx["timestamp"] - self.start) % DAY) // 3600
        events = tx[
            [
                "transactionID",
                "accountID",
                "terminalID",
                "transactionAmount",
                "localHour",
                "timestamp",
                "isProxyIP",
                "digitalItemCount",
                "physicalItemCount",
            ]
        ].astype(
            {
                "accountID": "int64",
                "terminalID": "int64",
                "localHour": "int64",
                "timestamp": "int64",
                "digitalItemCount": "int64",
                "physicalItemCount": "int64",
            }
        )
        labels = pd.DataFrame(
            {
                "transactionID": tx["transactionID"],
                "is_fraud": (tx["scenario"] > 0).astype("int64"),
                "scenario": tx["scenario"].astype("int64"),
            }
        )
        self._cache = (events, labels)
        return self._cache

    # ---- replay ---------------------------------------------------------------------------
    def split(
        self, history_days: int
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(history events, history labels, live events, live labels), cut after a number of days."""
        events, labels = self.generate()
        cut = self.start + history_days * DAY
        old = events["timestamp"] < cut
        return events[old], labels[old.to_numpy()], events[~old], labels[(~old).to_numpy()]

    def run(
        self,
        backend: Backend,
        *,
        from_day: int = 0,
        dataset: str = "transactions",
        labels_dataset: str = "labels",
        label_delay: str = "7d",
        order: str = "batch",
        batch_size: int = 1000,
        start: int = 0,
        already: Mapping[str, int] | None = None,
        limit: int | None = None,
        duration: str | None = None,
        speed: float | None = None,
        progress: bool = False,
        on_error: Literal["raise", "dead_letter"] = "raise",
    ) -> SimulationResult:
        """Replay the transactions from day ``from_day`` on into ``dataset``, and their labels
        ``label_delay`` later into ``labels_dataset``; ``order`` and the other options are
        :class:`ReplaySimulator`'s."""
        _, _, events, labels = self.split(from_day)
        replay = ReplaySimulator(
            events,
            dataset,
            timestamp="timestamp",
            labels=labels[["transactionID", "is_fraud"]],
            labels_dataset=labels_dataset,
            label_delay=label_delay,
            key="transactionID",
            order=order,
        )
        return replay.run(
            backend,
            batch_size=batch_size,
            start=start,
            already=already,
            limit=limit,
            duration=duration,
            speed=speed,
            progress=progress,
            on_error=on_error,
        )
