// Vocabulary for generated legacy folders: enough variety for listings,
// searches and recommendations to look like a real shop.

export const CATEGORIES: Record<string, { nouns: string[]; tags: string[]; priceCents: [number, number] }> = {
  kitchen: {
    nouns: ['Kettle', 'Mug', 'Teapot', 'Skillet', 'Cutting Board', 'Chef Knife', 'Colander', 'Whisk', 'Toaster', 'Salad Bowl'],
    tags: ['cookware', 'ceramic', 'steel', 'dishwasher-safe', 'gift'],
    priceCents: [399, 12999],
  },
  office: {
    nouns: ['Notebook', 'Desk Lamp', 'Stapler', 'Fountain Pen', 'Monitor Stand', 'Desk Organizer', 'Paper Tray', 'Office Chair'],
    tags: ['stationery', 'ergonomic', 'desk', 'recycled', 'gift'],
    priceCents: [199, 34999],
  },
  garden: {
    nouns: ['Watering Can', 'Pruning Shears', 'Planter', 'Hose', 'Garden Gloves', 'Seed Kit', 'Wheelbarrow', 'Bird Feeder'],
    tags: ['outdoor', 'plants', 'tools', 'eco', 'summer'],
    priceCents: [299, 18999],
  },
  electronics: {
    nouns: ['Headphones', 'USB Charger', 'Bluetooth Speaker', 'Webcam', 'Keyboard', 'Mouse', 'Power Bank', 'Smart Plug'],
    tags: ['wireless', 'usb-c', 'bluetooth', 'battery', 'smart-home'],
    priceCents: [999, 49999],
  },
  books: {
    nouns: ['Cookbook', 'Travel Guide', 'Novel', 'Atlas', 'Sketchbook', 'Poetry Collection', 'Field Guide'],
    tags: ['paperback', 'hardcover', 'bestseller', 'illustrated', 'gift'],
    priceCents: [499, 5999],
  },
  toys: {
    nouns: ['Puzzle', 'Building Blocks', 'Plush Bear', 'Kite', 'Board Game', 'Yo-Yo', 'Train Set'],
    tags: ['kids', 'educational', 'wooden', 'family', 'gift'],
    priceCents: [299, 8999],
  },
  sports: {
    nouns: ['Yoga Mat', 'Water Bottle', 'Jump Rope', 'Tennis Balls', 'Dumbbell', 'Cycling Gloves', 'Running Belt'],
    tags: ['fitness', 'outdoor', 'training', 'lightweight', 'summer'],
    priceCents: [499, 15999],
  },
  home: {
    nouns: ['Throw Blanket', 'Candle', 'Picture Frame', 'Cushion', 'Wall Clock', 'Vase', 'Doormat', 'Table Lamp'],
    tags: ['decor', 'cozy', 'handmade', 'cotton', 'gift'],
    priceCents: [299, 9999],
  },
};

export const ADJECTIVES = [
  'Classic', 'Compact', 'Deluxe', 'Essential', 'Modern', 'Rustic', 'Nordic', 'Premium', 'Everyday',
  'Vintage', 'Eco', 'Pro', 'Mini', 'Large', 'Handy', 'Bright', 'Quiet', 'Sturdy',
];

export const COLORS = ['Black', 'White', 'Sage', 'Navy', 'Terracotta', 'Oak', 'Slate', 'Mustard', 'Red', 'Blue'];

export const FIRST_NAMES = [
  'Anna', 'Ben', 'Clara', 'David', 'Elif', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kai', 'Lena', 'Mila',
  'Noah', 'Olga', 'Paul', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umut', 'Vera', 'Wim', 'Xenia', 'Yusuf', 'Zoe',
  'Marta', 'Luca', 'Sofia', 'Mateo', 'Amara', 'Kenji', 'Priya', 'Omar', 'Ingrid', 'Tomás',
];

export const LAST_NAMES = [
  'Müller', 'Schmidt', 'Novak', 'Rossi', 'García', 'Dubois', 'Jansen', 'Kowalski', 'Nielsen', 'Silva', 'Yilmaz',
  'Smith', 'Brown', 'Tanaka', 'Okafor', 'Haddad', 'Larsen', 'Costa', 'Weber', 'Fischer', 'Moreau', 'Ivanova',
];

export const COUNTRIES = ['DE', 'AT', 'CH', 'FR', 'NL', 'BE', 'IT', 'ES', 'PL', 'DK', 'SE', 'GB', 'US', 'IE', 'PT'];

export const EMAIL_DOMAINS = ['example.com', 'mail.test', 'post.example', 'shop.example.org'];

/** Order statuses with their weights; `canceled` is the legacy spelling quirk. */
export const STATUSES: [string, number][] = [
  ['paid', 40],
  ['shipped', 35],
  ['pending', 10],
  ['cancelled', 8],
  ['refunded', 7],
];
