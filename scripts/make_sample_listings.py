#!/usr/bin/python3
"""Writes pipelines/data/sample-listings.jsonl: a few hundred marketplace listings in seed 000's
shape (id, title, description, price, visits, ...), the sample data of the search page and the
corpus of the embedded index's ranking comparison with OpenSearch (issue 12).

Deterministic (a fixed seed, no clock): running it again writes the same bytes, so the committed
file is what this script makes. Usage: scripts/make_sample_listings.py [OUT] [COUNT]
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "pipelines", "data", "sample-listings.jsonl")

CONDITIONS = ["like new", "in great condition", "in good condition", "lightly used", "well loved", "brand new, still sealed"]
CITIES = ["Charlottesville", "Richmond", "Montréal", "Zürich", "São Paulo", "Köln", "Arlington", "Norfolk", "Québec", "Málaga"]
REASONS = ["Moving out, must go this week.", "Upgraded, so this one needs a new home.", "Selling because I don't use it anymore.",
           "Graduating in May — everything must go!", "Pick-up only, cash or Venmo.", "Price is firm; no trades please.",
           "Smoke-free, pet-free home.", "Can meet on campus near the library."]

# category: (title templates, description sentences, price range). {a}/{b}/{c} pick from the lists.
CATEGORIES = {
    "laptops": (
        ["Used MacBook Air 13\" {a}", "MacBook Pro 14\" {a} — {b}", "Dell XPS 13 ({b})", "Lenovo ThinkPad X1 Carbon Gen {c}",
         "HP Spectre x360, {b}", "ASUS ZenBook 14 {b}", "Microsoft Surface Laptop {c}", "Acer Chromebook Spin {c}",
         "MacBook Air M{c}, {b}", "Gaming laptop: MSI Katana, RTX 30{c}0"],
        {"a": ["M1 2020", "M2 2022", "Intel i5", "Space Gray", "Silver", "Midnight"], "b": ["16GB RAM", "8GB / 256GB SSD", "512GB SSD",
                                                                                     "i7, 1TB", "touchscreen"],
         "c": ["1", "2", "3", "5", "7", "9"]},
        ["Battery health is {p}% and it holds a charge all day.", "Comes with the original charger and box.",
         "A tiny scratch on the lid, screen is flawless.", "Great for school, coding and Netflix.",
         "Fresh macOS install, ready for its next owner.", "Keyboard and trackpad work perfectly.",
         "Includes a protective sleeve and a USB-C hub.", "Runs Windows 11, factory reset."], (150, 1400)),
    "phones": (
        ["iPhone {c} Pro, {b}", "iPhone SE ({a})", "Samsung Galaxy S2{c} Ultra", "Google Pixel {c}a — {b}",
         "OnePlus {c}T unlocked", "Motorola Moto G Power ({a})", "iPhone 1{c} mini, {b}"],
        {"a": ["2020", "2022", "2nd gen", "3rd gen", "unlocked"], "b": ["128GB", "256GB", "64GB", "unlocked", "Sierra Blue"],
         "c": ["1", "2", "3", "4", "5", "7", "8"]},
        ["Unlocked for any carrier.", "Screen protector on since day one, no cracks.", "Battery at {p}%.",
         "Comes with a case and a charging cable.", "Face ID and all cameras work.", "Small dent on the corner, otherwise perfect."],
        (60, 900)),
    "bikes": (
        ["Trek FX {c} hybrid bike", "Specialized Rockhopper mountain bike, {b}", "Vélo de route Peugeot (vintage)",
         "Road bike: Cannondale CAAD{c}, {b}", "Kids' bike 20\" with training wheels", "Electric bike — Rad Power RadCity {c}",
         "Fixie / single-speed, {b}", "Brompton folding bike, {b}", "Giant Talon {c} MTB"],
        {"b": ["54 cm", "medium frame", "large frame", "29er", "7-speed", "Shimano 105"], "c": ["1", "2", "3", "4", "8"]},
        ["New tires and brake pads last spring.", "Shifts smoothly, chain just replaced.", "Comes with a U-lock and lights.",
         "Perfect for commuting to UVA grounds.", "Some rust on the chain, rides great.", "Tuned up at the bike shop last month."],
        (40, 1600)),
    "furniture": (
        ["IKEA Kallax shelf, {b}", "Mid-century modern sofa ({b})", "Canapé-lit / sleeper sofa, {b}", "Solid oak dining table + {c} chairs",
         "Queen bed frame with headboard", "Office chair — Herman Miller Aeron, size {a}", "Standing desk, {b}",
         "Bookshelf, 5 tiers, {b}", "Coffee table (walnut), {b}", "Futon, {b}, folds flat"],
        {"a": ["A", "B", "C"], "b": ["white", "black", "walnut", "gray fabric", "4x4", "2x4", "like new"], "c": ["2", "4", "6"]},
        ["You pick up; it fits in an SUV.", "Disassembled for easy transport.", "No stains, no tears.",
         "From a smoke-free apartment.", "Assembly instructions included.", "Sturdy and heavy, bring a friend."],
        (15, 900)),
    "textbooks": (
        ["Calculus: Early Transcendentals, {a} edition", "Organic Chemistry (Klein), {a} ed.", "Intro to Algorithms (CLRS), {a} edition",
         "Campbell Biology, {a} edition", "Microeconomics — Mankiw, {a} ed.", "Psychology textbook, {a} edition, loose-leaf"],
        {"a": ["3rd", "4th", "7th", "8th", "9th", "11th"]},
        ["Some highlighting in the first chapters.", "Like new, spine not cracked.", "Access code already used.",
         "Used for one semester.", "Notes in the margins, all pages intact."], (10, 180)),
    "appliances": (
        ["Mini fridge, {b}", "Keurig coffee maker K-{c}0", "Instant Pot Duo {c}-quart", "Microwave, 900 W, {b}",
         "Dyson V{c} cordless vacuum", "Nespresso machine + milk frother", "Air fryer (Ninja), {b}", "Crème brûlée torch and ramekins"],
        {"b": ["black", "stainless steel", "3.1 cu ft", "compact", "like new"], "c": ["1", "5", "6", "8"]},
        ["Works perfectly, cleaned and ready.", "Perfect for a dorm room.", "Comes with the manual.",
         "Barely used, moving abroad.", "Descaled last week."], (10, 300)),
    "electronics": (
        ["Sony WH-1000XM{c} headphones", "iPad Air ({a}), {b}", "Nintendo Switch OLED + {c} games", "PS5 disc edition with controller",
         "Apple Watch Series {c}, {b}", "AirPods Pro (2nd gen)", "Kindle Paperwhite, {b}", "27\" Dell monitor, 1440p",
         "GoPro HERO{c} with accessories", "Bose SoundLink speaker, {b}"],
        {"a": ["4th gen", "5th gen", "M1"], "b": ["64GB", "256GB", "Wi-Fi", "black", "blue", "GPS"], "c": ["3", "4", "5", "7", "9"]},
        ["Noise cancelling works great.", "Comes with the original box and cables.", "Screen has no scratches.",
         "Factory reset and unpaired.", "Battery lasts about {p} hours.", "Includes a carrying case."], (25, 700)),
}

def listing(rng, i):
    category = rng.choice(sorted(CATEGORIES))
    titles, fills, sentences, (low, high) = CATEGORIES[category]
    title = rng.choice(titles).format(**{k: rng.choice(v) for k, v in fills.items()})
    parts = ["%s, %s." % (title.split(",")[0].split(" (")[0].split(" —")[0], rng.choice(CONDITIONS))]
    parts += [s.format(p=rng.randint(80, 99)) for s in rng.sample(sentences, rng.randint(1, min(4, len(sentences))))]
    if rng.random() < 0.6:
        parts.append(rng.choice(REASONS))
    if rng.random() < 0.3:
        parts.append("Located in %s." % rng.choice(CITIES))
    doc = {"id": i, "title": title, "description": " ".join(parts), "category": category,
           "price": round(rng.uniform(low, high) / 5) * 5, "seller_id": rng.randint(1, 120)}
    if rng.random() < 0.85:  # the rest have never been viewed: `missing` decides their hot score
        doc["visits"] = int(rng.paretovariate(1.2) * 3) - 2 if rng.random() < 0.9 else 0
        doc["visits"] = max(doc["visits"], 0)
    return doc


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    rng = random.Random(12)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(1, count + 1):
            f.write(json.dumps(listing(rng, i), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
