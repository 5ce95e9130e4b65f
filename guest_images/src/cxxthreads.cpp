// C++ threads: std::thread, std::mutex, std::condition_variable, std::async and
// std::future (an exception carried from one thread to another), thread_local,
// std::atomic, std::shared_mutex and std::call_once. Prints only results, so native
// and emulated runs print the same.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <numeric>
#include <queue>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static thread_local int tls_counter = 100;
static std::atomic<int> tls_distinct{0};

static void tls_worker(int id) {
    for (int i = 0; i < 1000; i++)
        tls_counter++;
    if (tls_counter == 1100)
        tls_distinct.fetch_add(1);
    (void)id;
}

static long counter_with_mutex(int nthreads, int each) {
    std::mutex m;
    long counter = 0;
    std::vector<std::thread> ts;
    for (int t = 0; t < nthreads; t++)
        ts.emplace_back([&] {
            for (int i = 0; i < each; i++) {
                std::lock_guard<std::mutex> g(m);
                counter++;
            }
        });
    for (auto &t : ts)
        t.join();
    return counter;
}

static long producer_consumer(int items) {
    std::mutex m;
    std::condition_variable cv;
    std::queue<int> q;
    bool done = false;
    long sum = 0;
    std::thread consumer([&] {
        std::unique_lock<std::mutex> lk(m);
        for (;;) {
            cv.wait(lk, [&] { return !q.empty() || done; });
            while (!q.empty()) {
                sum += q.front();
                q.pop();
            }
            if (done)
                return;
        }
    });
    for (int i = 1; i <= items; i++) {
        {
            std::lock_guard<std::mutex> g(m);
            q.push(i);
        }
        cv.notify_one();
    }
    {
        std::lock_guard<std::mutex> g(m);
        done = true;
    }
    cv.notify_one();
    consumer.join();
    return sum;
}

static int throws_in_thread() {
    throw std::runtime_error("from another thread");
}

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::printf("mutex counter %ld\n", counter_with_mutex(4, 20000));
    std::printf("condvar sum %ld\n", producer_consumer(2000));

    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
        ts.emplace_back(tls_worker, i);
    for (auto &t : ts)
        t.join();
    std::printf("thread_local: %d threads saw their own copy, main's is %d\n",
                tls_distinct.load(), tls_counter);

    std::vector<std::future<long>> parts;
    for (long k = 0; k < 4; k++)
        parts.push_back(std::async(std::launch::async, [k] {
            long s = 0;
            for (long i = k * 250000; i < (k + 1) * 250000; i++)
                s += i;
            return s;
        }));
    long total = 0;
    for (auto &f : parts)
        total += f.get();
    std::printf("async sum %ld\n", total);

    auto bad = std::async(std::launch::async, throws_in_thread);
    try {
        bad.get();
        std::printf("no exception\n");
    } catch (const std::runtime_error &e) {
        std::printf("exception carried: %s\n", e.what());
    }

    std::promise<std::string> p;
    std::future<std::string> f = p.get_future();
    std::thread setter([&p] { p.set_value("promised"); });
    std::printf("promise: %s\n", f.get().c_str());
    setter.join();

    std::shared_mutex sm;
    std::atomic<int> readers{0}, max_readers{0};
    std::vector<std::thread> rs;
    for (int i = 0; i < 3; i++)
        rs.emplace_back([&] {
            for (int j = 0; j < 200; j++) {
                std::shared_lock<std::shared_mutex> lk(sm);
                int now = ++readers;
                int seen = max_readers.load();
                while (now > seen && !max_readers.compare_exchange_weak(seen, now))
                    ;
                --readers;
            }
        });
    {
        std::unique_lock<std::shared_mutex> lk(sm);
    }
    for (auto &t : rs)
        t.join();
    std::printf("shared_mutex: readers ran, none left %d\n", readers.load() == 0);

    std::once_flag once;
    std::atomic<int> calls{0};
    std::vector<std::thread> os;
    for (int i = 0; i < 4; i++)
        os.emplace_back([&] { std::call_once(once, [&] { calls++; }); });
    for (auto &t : os)
        t.join();
    std::printf("call_once: %d\n", calls.load());

    std::timed_mutex tm;
    tm.lock();
    bool got = true;
    std::thread tryer([&] { got = tm.try_lock_for(std::chrono::milliseconds(30)); });
    tryer.join();
    tm.unlock();
    std::printf("timed_mutex try_lock_for while held: %s\n", got ? "got it" : "timed out");
    std::printf("hardware_concurrency > 0: %d\n", std::thread::hardware_concurrency() > 0);
    return 0;
}
